#include "sim/network_sim.hpp"

#include <algorithm>
#include <limits>

#include "core/step.hpp"
#include "sim/length_sample.hpp"

namespace batchproof::sim {

namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();

struct Replica {
  const core::Engine* engine = nullptr;
  core::EngineState state;
  std::size_t station = 0;
  bool busy = false;
  bool stuck = false;                 // its last step formed no batch: retry on new work only
  double free_at = 0;                 // when the running iteration ends
  core::StepOutcome pending;          // its outcome, delivered at free_at
  double started_at = 0;
  std::int64_t backlog = 0;           // remaining work of the requests here, tokens
  std::int64_t present = 0;           // requests here
  std::int64_t tokens = 0;
  std::uint64_t iterations = 0, preemptions = 0;
};

struct Job {
  std::size_t cls = 0;
  std::size_t stage = 0;
  std::size_t outstanding = 0;  // hops of the current stage not finished yet
  double arrival = 0;
  const NetworkArrival* given = nullptr;  // an explicit arrival: its hop lengths
  std::size_t next_length = 0;            // the next of them to use
};

class Network {
 public:
  Network(const core::Spec& spec, const core::Network& n, const NetworkSimOptions& o) : n_(n), o_(o) {
    for (std::size_t s = 0; s < n.stations.size(); ++s) {
      const auto& st = n.stations[s];
      station_first_.push_back(replicas_.size());
      for (std::int64_t k = 0; k < st.replicas; ++k) {
        Replica r;
        r.engine = spec.find_engine(st.engine);
        r.station = s;
        replicas_.push_back(std::move(r));
      }
      rr_.push_back(0);
      StationResult sr;
      sr.name = st.name;
      sr.engine = st.engine;
      sr.replicas = st.replicas;
      sr.tokens_per_replica.assign(static_cast<std::size_t>(st.replicas), 0);
      res_.stations.push_back(std::move(sr));
    }
    for (std::size_t c = 0; c < n.classes.size(); ++c) {
      const auto& cl = n.classes[c];
      times_.emplace_back(cl.arrivals, RateChoice{std::nullopt, o.rate_scale}, Random::for_stream(o.seed, 100 + c));
      length_rng_.push_back(Random::for_stream(o.seed, 200 + c));
      next_arrival_.push_back(next_time(c));
      res_.classes.push_back(ClassResult{cl.name});
    }
    double horizon = o.duration_s.value_or(0);
    if (horizon <= 0 && o.jobs) {
      double rate = 0;
      for (const auto& t : times_) rate += t.rate_per_s();
      if (rate > 0) horizon = static_cast<double>(*o.jobs) / rate;
    }
    if (horizon <= 0 && o.arrivals && !o.arrivals->empty()) horizon = o.arrivals->back().time_s;
    sample_every_ = horizon > 0 ? horizon / static_cast<double>(o.backlog_samples) : 1.0;
    station_samples_.resize(n.stations.size());
  }

  NetworkSimResult run() {
    for (;;) {
      double t_done = kNever;
      for (const auto& r : replicas_)
        if (r.busy) t_done = std::min(t_done, r.free_at);
      std::size_t c_next = 0;
      double t_arr = kNever;
      if (o_.arrivals) {
        if (given_next_ < o_.arrivals->size()) t_arr = (*o_.arrivals)[given_next_].time_s;
      } else {
        for (std::size_t c = 0; c < next_arrival_.size(); ++c)
          if (next_arrival_[c] < t_arr) t_arr = next_arrival_[c], c_next = c;
      }
      if (t_arr == kNever || (!o_.arrivals && o_.jobs && jobs_.size() >= *o_.jobs)) break;  // the run ends with its arrivals
      double t = std::min(t_done, t_arr);
      sample(t);
      now_ = t;
      // Iterations that end now deliver their results first (engine order), then arrivals.
      for (std::size_t i = 0; i < replicas_.size(); ++i)
        if (replicas_[i].busy && replicas_[i].free_at <= t) complete(i);
      if (o_.arrivals) {
        while (given_next_ < o_.arrivals->size() && (*o_.arrivals)[given_next_].time_s <= t) arrive_given();
      } else if (t_arr <= t) {
        arrive(c_next);
      }
      for (std::size_t i = 0; i < replicas_.size(); ++i)
        if (!replicas_[i].busy) start(i);
    }
    finish();
    return std::move(res_);
  }

 private:
  double next_time(std::size_t c) {
    auto a = times_[c].next();
    if (!a) return kNever;
    if (o_.duration_s && a->time_s > *o_.duration_s) return kNever;
    return a->time_s;
  }

  void arrive(std::size_t c) {
    Job job;
    job.cls = c;
    job.arrival = next_arrival_[c];
    jobs_.push_back(job);
    ++res_.jobs_arrived;
    ++res_.classes[c].arrived;
    res_.end_time_s = now_;
    enter_stage(jobs_.size() - 1);
    next_arrival_[c] = next_time(c);
  }

  void arrive_given() {
    const NetworkArrival& a = (*o_.arrivals)[given_next_++];
    Job job;
    job.cls = a.cls;
    job.stage = a.stage;
    job.arrival = a.time_s;
    job.given = &a;
    jobs_.push_back(job);
    ++res_.jobs_arrived;
    ++res_.classes[a.cls].arrived;
    res_.end_time_s = now_;
    enter_stage(jobs_.size() - 1);
  }

  // Sends a job's current stage to its stations (or records the job as done).
  void enter_stage(std::size_t j) {
    Job& job = jobs_[j];
    const auto& route = n_.classes[job.cls].route;
    if (job.stage >= route.size()) {
      ++res_.jobs_completed;
      ++res_.classes[job.cls].completed;
      res_.classes[job.cls].e2e.record(now_ - job.arrival);
      return;
    }
    const auto& stage = route[job.stage];
    job.outstanding = stage.hops.size();
    for (const auto& hop : stage.hops) submit(j, hop);
  }

  std::size_t station_index(const std::string& name) const {
    for (std::size_t s = 0; s < n_.stations.size(); ++s)
      if (n_.stations[s].name == name) return s;
    return 0;  // lowering guarantees every hop names a station
  }

  std::int32_t priority_rank(std::size_t station, std::size_t cls) const {
    auto it = n_.priority.find(n_.stations[station].name);
    if (it == n_.priority.end()) return 0;
    const auto& order = it->second;
    auto pos = std::find(order.begin(), order.end(), n_.classes[cls].name);
    return static_cast<std::int32_t>(pos - order.begin());  // unlisted classes come last
  }

  std::size_t dispatch(std::size_t s) {
    std::size_t first = station_first_[s];
    auto count = static_cast<std::size_t>(n_.stations[s].replicas);
    switch (n_.stations[s].dispatch) {
      case core::Dispatch::RoundRobin: return first + (rr_[s]++ % count);
      case core::Dispatch::ShortestQueueRequests: {
        std::size_t best = first;
        for (std::size_t k = first; k < first + count; ++k)
          if (replicas_[k].present < replicas_[best].present) best = k;
        return best;
      }
      case core::Dispatch::ShortestQueueTokens: {
        std::size_t best = first;
        for (std::size_t k = first; k < first + count; ++k)
          if (replicas_[k].backlog < replicas_[best].backlog) best = k;
        return best;
      }
    }
    return first;
  }

  void submit(std::size_t j, const core::Hop& hop) {
    std::size_t s = station_index(hop.station);
    std::size_t k = dispatch(s);
    Job& job = jobs_[j];
    core::Request r;
    r.id = next_id_++;
    r.arrival_s = now_;
    if (job.given && job.next_length < job.given->lengths.size()) {
      r.prompt = std::max<std::int64_t>(1, job.given->lengths[job.next_length].first);
      r.output = std::max<std::int64_t>(1, job.given->lengths[job.next_length].second);
      ++job.next_length;
    } else {
      r.prompt = std::max<std::int64_t>(1, sample_length(hop.prompt, length_rng_[job.cls]));
      r.output = std::max<std::int64_t>(1, sample_length(hop.output, length_rng_[job.cls]));
    }
    r.priority = priority_rank(s, job.cls);
    request_job_.push_back(j);
    latency_.submitted(r.id, now_);
    offered_ += static_cast<double>(r.prompt + r.output);
    res_.stations[s].offered_tokens_per_s += static_cast<double>(r.prompt + r.output);  // a total until finish()
    Replica& rep = replicas_[k];
    rep.stuck = false;
    rep.backlog += r.prompt + r.output;
    ++rep.present;
    core::arrive(rep.state, std::move(r));
  }

  void start(std::size_t i) {
    Replica& r = replicas_[i];
    if (r.present == 0 || r.stuck) return;
    core::step(*r.engine, r.state, r.pending);
    ++r.iterations;
    if (r.pending.batch.empty()) {  // nothing schedulable: only new work can change that
      r.stuck = true;
      return;
    }
    r.busy = true;
    r.started_at = now_;
    r.free_at = now_ + r.pending.batch.duration_s;
  }

  void complete(std::size_t i) {
    Replica& r = replicas_[i];
    r.busy = false;
    const core::StepOutcome& o = r.pending;
    r.tokens += o.batch.tokens;
    r.preemptions += o.preempted.size();
    r.backlog = core::backlog_tokens(r.state);
    r.present -= static_cast<std::int64_t>(o.finished.size());
    latency_.iteration(o, r.started_at, r.free_at);
    res_.tokens += o.batch.tokens;
    for (const auto& f : o.finished) {
      std::size_t j = request_job_[static_cast<std::size_t>(f.id)];
      if (--jobs_[j].outstanding == 0) {
        ++jobs_[j].stage;
        enter_stage(j);
      }
    }
  }

  void sample(double t) {
    while (next_sample_ <= t) {
      double total = 0;
      for (std::size_t s = 0; s < n_.stations.size(); ++s) {
        double b = 0;
        for (std::size_t k = station_first_[s]; k < station_first_[s] + static_cast<std::size_t>(n_.stations[s].replicas); ++k)
          b += static_cast<double>(core::backlog_tokens(replicas_[k].state));
        station_samples_[s].push_back({next_sample_, b});
        total += b;
      }
      res_.backlog.push_back({next_sample_, total});
      offered_cumulative_.push_back(offered_);
      next_sample_ += sample_every_;
      if (res_.backlog.size() >= 2 * o_.backlog_samples) thin();
    }
  }
  void thin() {
    auto halve = [](auto& v) {
      std::size_t k = 0;
      for (std::size_t i = 0; i < v.size(); i += 2) v[k++] = v[i];
      v.resize(k);
    };
    halve(res_.backlog);
    halve(offered_cumulative_);
    for (auto& s : station_samples_) halve(s);
    sample_every_ *= 2;
    next_sample_ = res_.backlog.back().time_s + sample_every_;
  }

  void finish() {
    double T = res_.end_time_s;
    res_.offered_tokens_per_s = T > 0 ? offered_ / T : 0;
    res_.verdict = stability_verdict(res_.backlog, res_.offered_tokens_per_s);
    if (res_.backlog.size() >= 2) {
      std::size_t mid = res_.backlog.size() / 2, last = res_.backlog.size() - 1;
      double span = res_.backlog[last].time_s - res_.backlog[mid].time_s;
      if (span > 0) res_.offered_second_half_tokens_per_s = (offered_cumulative_[last] - offered_cumulative_[mid]) / span;
    }
    for (std::size_t s = 0; s < res_.stations.size(); ++s) {
      StationResult& sr = res_.stations[s];
      sr.offered_tokens_per_s = T > 0 ? sr.offered_tokens_per_s / T : 0;
      for (std::size_t k = 0; k < static_cast<std::size_t>(sr.replicas); ++k) {
        const Replica& r = replicas_[station_first_[s] + k];
        sr.tokens_per_replica[k] = r.tokens;
        sr.tokens += r.tokens;
        sr.iterations += r.iterations;
        sr.preemptions += r.preemptions;
      }
      sr.backlog = std::move(station_samples_[s]);
      sr.verdict = stability_verdict(sr.backlog, sr.offered_tokens_per_s);
    }
    res_.hops = std::move(hop_latencies_);
  }

  const core::Network& n_;
  const NetworkSimOptions& o_;
  std::vector<Replica> replicas_;
  std::vector<std::size_t> station_first_;
  std::vector<std::uint64_t> rr_;
  std::vector<ArrivalTimes> times_;
  std::vector<Random> length_rng_;
  std::vector<double> next_arrival_;
  std::vector<Job> jobs_;
  std::vector<std::size_t> request_job_;  // by request id
  std::int64_t next_id_ = 0;
  std::size_t given_next_ = 0;  // the next explicit arrival
  double now_ = 0, offered_ = 0;
  double sample_every_ = 1, next_sample_ = 0;
  std::vector<double> offered_cumulative_;
  std::vector<std::vector<BacklogSample>> station_samples_;
  Latencies hop_latencies_;
  LatencyRecorder latency_{hop_latencies_};
  NetworkSimResult res_;
};

}  // namespace

NetworkSimResult simulate_network(const core::Spec& spec, const core::Network& network, const NetworkSimOptions& options) {
  return Network(spec, network, options).run();
}

}  // namespace batchproof::sim
