#include "networks/mlp/experiment.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include <Eigen/Core>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "networks/mlp/backprop.hpp"
#include "networks/mlp/difference_target_prop.hpp"
#include "networks/mlp/feedback_alignment.hpp"
#include "networks/mlp/random.hpp"
#include "networks/mlp/rmsprop.hpp"
#include "networks/mlp/target_prop.hpp"
#include "networks/mlp/trainer.hpp"
#include "sim/error.hpp"

namespace settle::mlp {

namespace {

// Lee et al. 2015 (their code): back-prop lr 0.000804436870084; DTP eta_hat 0.327736332653,
// lr_f 0.0148893490317, lr_b 0.00501149118237, sigma 0.359829566008. No published value for FA:
// it uses back-prop's; TP uses DTP's.
constexpr double kLeeBpLearningRate = 0.000804436870084;
constexpr double kLeeDtpLearningRate = 0.0148893490317;
constexpr double kLeeDtpInverseLearningRate = 0.00501149118237;

int positive_int(ConfigTable& t, const std::string& key, std::int64_t fallback, std::int64_t min = 1) {
    const std::int64_t v = t.get_int(key, fallback);
    if (v < min || v > 1'000'000'000)
        t.fail(key, "must be an integer >= " + std::to_string(min) + ", got " + std::to_string(v));
    return static_cast<int>(v);
}

void read_rmsprop(ConfigTable& t, const std::string& prefix, RmsPropConfig& c) {
    c.decay = t.get_double(prefix + "decay", c.decay);
    if (!(c.decay >= 0 && c.decay < 1)) t.fail(prefix + "decay", "must be in [0, 1), got " + std::to_string(c.decay));
    c.momentum = t.get_double(prefix + "momentum", c.momentum);
    if (!(c.momentum >= 0 && c.momentum < 1))
        t.fail(prefix + "momentum", "must be in [0, 1), got " + std::to_string(c.momentum));
    c.epsilon = require_positive(t, prefix + "epsilon", t.get_double(prefix + "epsilon", c.epsilon));
}

}  // namespace

MlpExperiment parse_mlp_experiment(ConfigTable& root) {
    MlpExperiment e;
    auto train = root.table("train");
    const bool top_epochs = root.has("epochs");
    const bool train_epochs = train && train->has("epochs");
    if (top_epochs && train_epochs) train->fail("epochs", "given both at the top level and in [train]; keep one");
    if (!top_epochs && !train_epochs)
        root.fail("epochs", "required key is missing (set `epochs` at the top level or in [train])");
    e.epochs = top_epochs ? positive_int(root, "epochs", 0) : positive_int(*train, "epochs", 0);

    if (train) {
        e.batch_size = positive_int(*train, "batch_size", e.batch_size);
        e.threads = positive_int(*train, "threads", e.threads);
        if (e.threads > 256) train->fail("threads", "at most 256, got " + std::to_string(e.threads));
        e.shuffle = train->get_bool("shuffle", e.shuffle);
        e.angle_every = positive_int(*train, "angle_every", e.angle_every, 0);
        e.eval_batch_size = positive_int(*train, "eval_batch_size", e.eval_batch_size);
        train->finish();
    }

    if (auto net = root.table("network")) {
        const auto layers = net->get_int_array("layers", {});
        if (net->has("layers")) {
            if (layers.size() < 2) net->fail("layers", "needs at least an input and an output size");
            e.sizes.clear();
            for (auto s : layers) {
                if (s < 1 || s > 1'000'000) net->fail("layers", "sizes must be in [1, 1000000], got " + std::to_string(s));
                e.sizes.push_back(static_cast<int>(s));
            }
        }
        for (auto s : net->get_int_array("sign_layers", {})) {
            const auto hidden = static_cast<std::int64_t>(e.sizes.size()) - 2;
            if (s < 1 || s > hidden)
                net->fail("sign_layers", "entries are hidden layers, 1.." + std::to_string(hidden) + "; got " +
                                             std::to_string(s));
            e.sign_layers.push_back(static_cast<int>(s));
        }
        e.init = net->get_choice("init", e.init, {"orthogonal", "uniform"});
        e.dtype = net->get_choice("dtype", e.dtype, {"float32", "float64"});
        net->get_choice("activation", "tanh", {"tanh"});
        net->finish();
    }

    if (auto data = root.table("data")) {
        DataSpec& d = e.data;
        d.dir = data->get_string("dir", d.dir);
        d.train_images = data->get_string("train_images", d.train_images);
        d.train_labels = data->get_string("train_labels", d.train_labels);
        d.test_images = data->get_string("test_images", d.test_images);
        d.test_labels = data->get_string("test_labels", d.test_labels);
        d.validation_size = static_cast<std::size_t>(positive_int(*data, "validation_size", 10000));
        d.train_limit = static_cast<std::size_t>(positive_int(*data, "train_limit", 0, 0));
        d.test_limit = static_cast<std::size_t>(positive_int(*data, "test_limit", 0, 0));
        data->finish();
    }

    auto alg = root.table("algorithm");
    if (!alg) root.fail("algorithm", "required table [algorithm] is missing (name = \"bp\" | \"fa\" | \"tp\" | \"dtp\")");
    e.algorithm = alg->get_choice("name", "", {"bp", "fa", "tp", "dtp"});
    const bool targets = e.algorithm == "tp" || e.algorithm == "dtp";
    e.forward.learning_rate = targets ? kLeeDtpLearningRate : kLeeBpLearningRate;
    e.forward.learning_rate = require_positive(*alg, "learning_rate", alg->get_double("learning_rate", e.forward.learning_rate));
    read_rmsprop(*alg, "rmsprop_", e.forward);
    e.inverse = e.forward;
    e.inverse.learning_rate = kLeeDtpInverseLearningRate;
    const auto only = [&](const std::string& key, bool applies, const char* which) {
        if (alg->has(key) && !applies) alg->fail(key, std::string("applies only to algorithm ") + which + ", not '" + e.algorithm + "'");
    };
    for (const char* key : {"target_step", "inverse_learning_rate", "noise_std", "noise_decay_epochs", "inverse_init"})
        only(key, targets, "tp or dtp");
    only("feedback_scale", e.algorithm == "fa", "fa");
    if (targets) {
        e.target_step = require_positive(*alg, "target_step", alg->get_double("target_step", e.target_step));
        e.inverse.learning_rate =
            require_positive(*alg, "inverse_learning_rate", alg->get_double("inverse_learning_rate", e.inverse.learning_rate));
        e.noise_std = require_non_negative(*alg, "noise_std", alg->get_double("noise_std", e.noise_std));
        e.noise_decay_epochs =
            require_non_negative(*alg, "noise_decay_epochs", alg->get_double("noise_decay_epochs", e.noise_decay_epochs));
        e.inverse_init = alg->get_choice("inverse_init", e.inverse_init, {"orthogonal", "uniform"});
    }
    if (e.algorithm == "fa")
        e.feedback_scale = require_positive(*alg, "feedback_scale", alg->get_double("feedback_scale", e.feedback_scale));
    alg->finish();
    return e;
}

NetworkShape network_shape(const MlpExperiment& e) {
    NetworkShape s;
    s.sizes = e.sizes;
    s.sign_input.assign(e.sizes.size() - 1, false);
    for (int l : e.sign_layers) s.sign_input[static_cast<std::size_t>(l)] = true;  // hidden l feeds weight layer l
    return s;
}

template <class T>
std::unique_ptr<Algorithm<T>> make_algorithm(const MlpExperiment& e, const Mlp<T>& net, std::uint64_t seed) {
    if (e.algorithm == "bp") return std::make_unique<Backprop<T>>();
    if (e.algorithm == "fa") return std::make_unique<FeedbackAlignment<T>>(net, seed, e.feedback_scale);
    TargetPropConfig c;
    c.target_step = e.target_step;
    c.inverse.optimizer = e.inverse;
    c.inverse.noise_std = e.noise_std;
    c.inverse.noise_decay_epochs = e.noise_decay_epochs;
    c.inverse.init = e.inverse_init == "uniform" ? Init::uniform : Init::orthogonal;
    if (e.algorithm == "tp") return std::make_unique<TargetProp<T>>(net, c, seed);
    return std::make_unique<DifferenceTargetProp<T>>(net, c, seed);
}

template <class T>
double classification_error(const Mlp<T>& net, const Dataset& d, int batch) {
    if (d.size() == 0) return std::nan("");
    std::vector<std::size_t> order(d.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    Mat<T> x;
    std::vector<int> y;
    Activations<T> a;
    std::size_t wrong = 0;
    for (std::size_t first = 0; first < d.size(); first += static_cast<std::size_t>(batch)) {
        const std::size_t count = std::min(static_cast<std::size_t>(batch), d.size() - first);
        gather_batch<T>(d, order, first, count, x, y);
        net.forward(x, a);
        cross_entropy<T>(a.h.back(), y, &wrong);
    }
    return static_cast<double>(wrong) / static_cast<double>(d.size());
}

template <class T>
void train_mlp(const MlpExperiment& e, const DataSplits& data, std::uint64_t seed, ResultSink& sink,
               const std::function<void(const EpochReport&)>& on_epoch, const std::function<bool()>& should_stop) {
#ifdef _OPENMP
    omp_set_num_threads(e.threads);
#endif
    Eigen::setNbThreads(e.threads);
    const NetworkShape shape = network_shape(e);
    if (data.train.features() != shape.sizes.front())
        throw ConfigError("network.layers", "the input layer has " + std::to_string(shape.sizes.front()) +
                                                " units but the data have " + std::to_string(data.train.features()) +
                                                " values per example");
    if (data.train.classes > shape.sizes.back())
        throw ConfigError("network.layers", "the output layer has " + std::to_string(shape.sizes.back()) +
                                                " units but the data have " + std::to_string(data.train.classes) +
                                                " classes");
    Mlp<T> net(shape);
    net.initialise(seed, e.init == "uniform" ? Init::uniform : Init::orthogonal);
    auto algorithm = make_algorithm<T>(e, net, seed);
    RmsProp<T> optimiser(e.forward);
    const bool angles = algorithm->reports_angles() && e.angle_every > 0;

    const std::size_t n = data.train.size();
    const auto bs = static_cast<std::size_t>(e.batch_size);
    const std::size_t n_batches = (n + bs - 1) / bs;
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    const BatchFn<T> batch = [&](std::size_t i, Mat<T>& x, std::vector<int>& y) {
        const std::size_t first = i * bs;
        gather_batch<T>(data.train, order, first, std::min(bs, n - first), x, y);
    };

    std::vector<double> train_loss, train_error, validation_error, test_error, seconds;
    std::map<std::string, std::vector<double>> diagnostics;
    std::vector<std::vector<double>> angle_curve;  // epochs x layers
    const int L = net.layers();
    Params<T> g = net.zeros_like(), g_bp = net.zeros_like();
    Activations<T> a_bp;
    Mat<T> x;
    std::vector<int> y;

    for (int epoch = 1; epoch <= e.epochs; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        if (e.shuffle) {
            Rng rng(seed, Purpose::shuffle, static_cast<std::uint32_t>(epoch));
            for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
        }
        algorithm->begin_epoch(net, epoch, n_batches, batch);
        double loss_sum = 0.0;
        std::size_t errors = 0;
        std::vector<double> angle_sum(static_cast<std::size_t>(L), 0.0);
        std::vector<int> angle_count(static_cast<std::size_t>(L), 0);
        for (std::size_t i = 0; i < n_batches; ++i) {
            batch(i, x, y);
            const BatchResult r = algorithm->compute(net, x, y, g);
            loss_sum += r.loss * static_cast<double>(y.size());
            errors += r.errors;
            if (angles && i % static_cast<std::size_t>(e.angle_every) == 0) {
                Backprop<T>::gradient(net, x, y, g_bp, a_bp);
                for (int k = 0; k < L; ++k) {
                    const double deg = angle_deg<T>(g.W[static_cast<std::size_t>(k)], g_bp.W[static_cast<std::size_t>(k)]);
                    if (std::isfinite(deg)) {
                        angle_sum[static_cast<std::size_t>(k)] += deg;
                        ++angle_count[static_cast<std::size_t>(k)];
                    }
                }
            }
            optimiser.step(net.p, g);
        }
        train_loss.push_back(n ? loss_sum / static_cast<double>(n) : std::nan(""));
        train_error.push_back(n ? static_cast<double>(errors) / static_cast<double>(n) : std::nan(""));
        validation_error.push_back(classification_error<T>(net, data.validation, e.eval_batch_size));
        test_error.push_back(classification_error<T>(net, data.test, e.eval_batch_size));
        if (angles) {
            std::vector<double> row(static_cast<std::size_t>(L));
            for (std::size_t k = 0; k < row.size(); ++k)
                row[k] = angle_count[k] ? angle_sum[k] / angle_count[k] : std::nan("");
            angle_curve.push_back(row);
        }
        for (const auto& [name, value] : algorithm->epoch_diagnostics()) diagnostics[name].push_back(value);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (on_epoch)
            on_epoch(EpochReport{epoch, e.epochs, train_loss.back(), train_error.back(), validation_error.back(),
                                 test_error.back(), seconds.back()});
        if (should_stop && should_stop()) break;
    }

    sink.metric_series("train_loss", train_loss);
    sink.metric_series("train_error", train_error);
    sink.metric_series("validation_error", validation_error);
    sink.metric_series("test_error", test_error);
    sink.metric_series("epoch_seconds", seconds);
    for (const auto& [name, values] : diagnostics) sink.metric_series(name, values);
    const auto last = [](const std::vector<double>& v) { return v.empty() ? std::nan("") : v.back(); };
    sink.metric("test_accuracy", 1.0 - last(test_error));
    sink.metric("validation_accuracy", 1.0 - last(validation_error));
    if (angles && !angle_curve.empty()) {
        sink.metric_series("update_angle_deg", angle_curve.back());
        std::vector<double> flat;
        for (const auto& row : angle_curve) flat.insert(flat.end(), row.begin(), row.end());
        sink.array("curves/update_angle_deg", angle_curve.size(), static_cast<std::size_t>(L), flat);
    }
    for (int k = 0; k < L; ++k) {
        emit_matrix<T>(sink, "weights/W" + std::to_string(k + 1), net.p.W[static_cast<std::size_t>(k)]);
        emit_matrix<T>(sink, "weights/b" + std::to_string(k + 1), Mat<T>(net.p.b[static_cast<std::size_t>(k)]));
    }
    algorithm->write_arrays(sink);
}

void run_mlp_experiment(const MlpExperiment& e, std::uint64_t seed, ResultSink& sink,
                        const std::function<void(const EpochReport&)>& on_epoch,
                        const std::function<bool()>& should_stop) {
    run_mlp_experiment(e, *load_mlp_data(e), seed, sink, on_epoch, should_stop);
}

std::shared_ptr<const DataSplits> load_mlp_data(const MlpExperiment& e) {
    return std::make_shared<const DataSplits>(load_splits(e.data));
}

void run_mlp_experiment(const MlpExperiment& e, const DataSplits& data, std::uint64_t seed, ResultSink& sink,
                        const std::function<void(const EpochReport&)>& on_epoch,
                        const std::function<bool()>& should_stop) {
    if (e.dtype == "float64") train_mlp<double>(e, data, seed, sink, on_epoch, should_stop);
    else train_mlp<float>(e, data, seed, sink, on_epoch, should_stop);
}

#define SETTLE_MLP_INSTANTIATE(T)                                                                                    \
    template std::unique_ptr<Algorithm<T>> make_algorithm<T>(const MlpExperiment&, const Mlp<T>&, std::uint64_t);    \
    template double classification_error<T>(const Mlp<T>&, const Dataset&, int);                                     \
    template void train_mlp<T>(const MlpExperiment&, const DataSplits&, std::uint64_t, ResultSink&,                   \
                               const std::function<void(const EpochReport&)>&, const std::function<bool()>&);
SETTLE_MLP_INSTANTIATE(float)
SETTLE_MLP_INSTANTIATE(double)

}  // namespace settle::mlp
