/* Status names shared by every engine. */
#include "hil/engine.h"

const char *hil_status_name(hil_status status)
{
    static const char *const names[HIL_ERR_COUNT_] = {
        "OK", "NULL_ARG", "TRUNCATED", "BAD_IDENTIFIER", "BAD_OFFSET", "BAD_VERSION", "BAD_MODEL",
        "UNSUPPORTED_OP", "UNSUPPORTED_TYPE", "BAD_QUANTIZATION", "ARENA_TOO_SMALL", "LIMIT",
        "BAD_ARGUMENT", "NOT_LOADED", "INVOKE",
    };
    if ((unsigned)status >= (unsigned)HIL_ERR_COUNT_) {
        return "UNKNOWN";
    }
    return names[status];
}
