// The audit report as text (a table of checks, the first violations with the records
// involved, the notes, the analytics and the profile fit) and as JSON.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "traces/audit_report.hpp"

namespace batchproof::cli {

std::string render_audit_text(const traces::AuditReport& report);
nlohmann::json render_audit_json(const traces::AuditReport& report);
// A fit as JSON: form, parameters, R², RMSE, largest residual, residuals by size range.
nlohmann::json render_fit_json(const traces::ProfileFit& fit);

}  // namespace batchproof::cli
