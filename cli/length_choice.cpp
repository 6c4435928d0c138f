#include "cli/length_choice.hpp"

#include <fmt/format.h>

namespace batchproof::cli {

std::optional<std::string> choose_lengths(const core::Spec& spec, const std::string& file, const LengthFlags& f,
                                          const std::string& capped_note, LengthChoice& out) {
  solver::LengthBounds& lb = out.bounds;
  lb = {1, kUnboundedLengthCap, 1, kUnboundedLengthCap};
  out.described = "lengths 1..4096 (no workload given)";
  if (!f.workload.empty()) {
    out.workload = spec.find_workload(f.workload);
    if (!out.workload) return fmt::format("no workload '{}' in {}", f.workload, file);
    solver::SupportBounds sb = solver::workload_support(*out.workload, kUnboundedLengthCap);
    lb = sb.bounds;
    out.described = fmt::format("workload {}: prompt {}..{}{}, output {}..{}{}", out.workload->name, lb.prompt_lo,
                                lb.prompt_hi, sb.prompt_capped ? " (capped)" : "", lb.output_lo, lb.output_hi,
                                sb.output_capped ? capped_note : "");
  }
  if (f.min_prompt) lb.prompt_lo = *f.min_prompt;
  if (f.max_prompt) lb.prompt_hi = *f.max_prompt;
  if (f.min_output) lb.output_lo = *f.min_output;
  if (f.max_output) lb.output_hi = *f.max_output;
  if (f.min_prompt || f.max_prompt || f.min_output || f.max_output)
    out.described = fmt::format("prompt {}..{}, output {}..{}", lb.prompt_lo, lb.prompt_hi, lb.output_lo, lb.output_hi);
  if (lb.prompt_lo < 1 || lb.prompt_lo > lb.prompt_hi || lb.output_lo < 1 || lb.output_lo > lb.output_hi)
    return fmt::format("empty length range: prompt {}..{}, output {}..{}", lb.prompt_lo, lb.prompt_hi, lb.output_lo,
                       lb.output_hi);
  return std::nullopt;
}

}  // namespace batchproof::cli
