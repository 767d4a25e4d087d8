# The HIL agent (firmware/agent/): sources and include directory for any Makefile.
#
#   include path/to/firmware/agent/agent.mk
#   SRCS     += $(HIL_AGENT_SRCS)
#   CFLAGS   += $(addprefix -I,$(HIL_AGENT_INCLUDES)) $(HIL_AGENT_DEFINES)
#
# C11, no heap, no board, no engine: the team's port (include/hil_agent/port.h) supplies those.
# Sizes (optional, before the include): HIL_AGENT_MAX_PAYLOAD (2048, the largest payload: frame
# buffer and reply buffer) and HIL_AGENT_RX_RING_SIZE (4096, a power of two). Compile with the
# same -mcpu/-mfloat-abi as the rest of the image; -ffunction-sections + --gc-sections drop what
# the port does not use. docs/porting.md has the port, the flash/RAM figures and a CMake list.

HIL_AGENT_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

HIL_AGENT_MAX_PAYLOAD ?= 2048
HIL_AGENT_RX_RING_SIZE ?= 4096
# 0 leaves the inference requests (src/infer*.c) out: a link-only agent (INFO, ECHO, RESET, faults)
HIL_AGENT_INFERENCE ?= 1

HIL_AGENT_SRCS := \
	$(HIL_AGENT_DIR)/src/agent.c \
	$(HIL_AGENT_DIR)/src/agent_dispatch.c \
	$(HIL_AGENT_DIR)/src/agent_info.c \
	$(HIL_AGENT_DIR)/src/agent_reply.c \
	$(HIL_AGENT_DIR)/src/ring.c \
	$(HIL_AGENT_DIR)/src/link/cobs.c \
	$(HIL_AGENT_DIR)/src/link/crc32.c \
	$(HIL_AGENT_DIR)/src/link/frame.c

HIL_AGENT_INCLUDES := $(HIL_AGENT_DIR)/include

HIL_AGENT_DEFINES := -DHIL_MAX_PAYLOAD=$(HIL_AGENT_MAX_PAYLOAD)u -DHIL_RX_RING_SIZE=$(HIL_AGENT_RX_RING_SIZE)u
ifeq ($(HIL_AGENT_INFERENCE),1)
HIL_AGENT_SRCS += $(addprefix $(HIL_AGENT_DIR)/src/,infer_model.c infer_upload.c infer.c)
else
HIL_AGENT_DEFINES += -DHIL_AGENT_NO_INFERENCE
endif
