#include <Eigen/SVD>

#include "networks/mlp/mlp.hpp"

namespace settle::mlp {

Eigen::MatrixXd nearest_semi_orthogonal(const Eigen::MatrixXd& a) {
    Eigen::BDCSVD<Eigen::MatrixXd> svd(a, Eigen::ComputeThinU | Eigen::ComputeThinV);
    return svd.matrixU() * svd.matrixV().transpose();
}

}  // namespace settle::mlp
