# Warnings for the project's own targets only (third-party headers are system includes).
function(batchproof_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
endfunction()
