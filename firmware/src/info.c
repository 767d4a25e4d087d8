/* The build id (INFO BUILD_ID); the agent writes the INFO / BOOT list itself. */
#include "hil/info.h"

#include "hil_build_id.h" /* generated in BUILD_DIR/gen: #define HIL_BUILD_ID "..." */

const char *hil_build_id(void)
{
    return HIL_BUILD_ID;
}
