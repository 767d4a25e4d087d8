# Inference engine selection, included by firmware/Makefile after the board.
#
# Inputs (from the Makefile / command line):
#   ENGINE      none | portable | tflm
#   ENGINE_DIR  this directory
#   ENGINE_INT16 (portable, optional, default 1) 0 leaves the 16x8 kernels (*_16x8.c, *_int16.c)
#               out of the image: int16 tensors are then refused with UNSUPPORTED_TYPE
#   TFLM_DIR    (tflm only) a tflite-micro tree: either a git checkout where
#               `make -f tensorflow/lite/micro/tools/make/Makefile TARGET=cortex_m_generic
#               TARGET_ARCH=cortex-m4+fp OPTIMIZED_KERNEL_DIR=cmsis_nn microlite` was run, or a
#               tree exported by create_tflm_tree.py plus its built library
#   TFLM_LIB    (tflm, optional) path of libtensorflow-microlite.a; default: the first one under
#               $(TFLM_DIR)/gen/cortex_m_generic_cortex-m4+fp_release*/lib/, else under
#               $(TFLM_DIR)/gen/*/lib/, else $(TFLM_DIR)/libtensorflow-microlite.a. It must be a
#               hard-float (fpv4-sp-d16) build.
#   TFLM_RELEASE (tflm, optional, default 1) 1 when the library was built with BUILD_TYPE=release
#               (-DNDEBUG -DTF_LITE_STRIP_ERROR_STRINGS); the adapter is compiled with the same
#               defines, or TFLM's inline header code differs from the library's. Only a release
#               library links into this firmware: the other build types call assert() and
#               vsnprintf(), which need newlib's heap and syscalls (_sbrk, _write, ...); 0 is refused
#   TFLM_CMSIS_NN (tflm, optional) 1 when the library was built with OPTIMIZED_KERNEL_DIR=cmsis_nn;
#               default: 1 if TFLM_LIB's path says cmsis_nn (TFLM's gen/ directory names do). The
#               adapter then registers CMSIS-NN's int8-only kernels (-DCMSIS_NN), which leaves the
#               int4/int16/float kernels out of the image (about 37 KB of flash)
#   TFLM_INT16  (tflm, optional, default 0) 1 registers the library's int8+int16 kernels even with
#               CMSIS-NN (-DHIL_TFLM_INT16), so 16x8 models run; otherwise a CMSIS-NN build refuses
#               int16 tensors with UNSUPPORTED_TYPE (a build without CMSIS-NN always runs them)
#
# Outputs (appended): ENGINE_SRCS, ENGINE_CXXSRCS, ENGINE_CFLAGS, ENGINE_CXXFLAGS,
# ENGINE_INCLUDES, ENGINE_DEFINES, ENGINE_LDLIBS; ENGINE_ID, what identifies the engine's inputs
# from outside the repository (the TFLM library's path, size and mtime), for the build id.
#
# `make -C firmware ENGINE=... [TFLM_DIR=...] print-engine-flags` prints what the firmware
# compiles the engine with, one NAME=value line each (values as make has them, quoted for sh):
# HIL_ENGINE_CC, HIL_ENGINE_CXX, HIL_ENGINE_C_SRCS, HIL_ENGINE_CXX_SRCS, HIL_ENGINE_CFLAGS (for the C sources),
# HIL_ENGINE_CXXFLAGS (for the C++ sources), HIL_ENGINE_ARCH_FLAGS and HIL_ENGINE_LDLIBS, less the
# dependency-file flags. The QEMU self-test and the kernel benchmark build from these
# (tests/support/engine_support/qemu_selftest.py), so they run the firmware's build of the engine.
#
# TFLM itself is never part of this repository: the user brings the tree and the library.

ENGINE_DIR ?= $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

HIL_ENGINE_PORTABLE_SRCS := $(sort $(wildcard $(ENGINE_DIR)/portable/*.c)) $(ENGINE_DIR)/hil_status.c

ifeq ($(ENGINE),portable)
ENGINE_INT16 ?= 1
ifeq ($(ENGINE_INT16),0)
HIL_ENGINE_PORTABLE_SRCS := $(filter-out %_16x8.c %_int16.c %/pe_int16_common.c,$(HIL_ENGINE_PORTABLE_SRCS))
ENGINE_CFLAGS += -DPE_WITH_INT16=0
endif
ENGINE_SRCS += $(HIL_ENGINE_PORTABLE_SRCS)
# No fused multiply-add: float expressions must round exactly as written, like TFLM's.
ENGINE_CFLAGS += -ffp-contract=off
ENGINE_LDLIBS += -lm
endif

ifeq ($(ENGINE),tflm)
ifeq ($(strip $(TFLM_DIR)),)
$(error ENGINE=tflm needs TFLM_DIR=<tflite-micro tree with a built libtensorflow-microlite.a>)
endif
TFLM_RELEASE ?= 1
ifneq ($(TFLM_RELEASE),1)
$(error TFLM_RELEASE=$(TFLM_RELEASE): only a TFLM library built with BUILD_TYPE=release links into this firmware (the other build types call assert() and vsnprintf(), which need newlib's heap and syscalls))
endif
TFLM_LIB ?= $(firstword \
    $(wildcard $(TFLM_DIR)/gen/cortex_m_generic_cortex-m4+fp_release*/lib/libtensorflow-microlite.a) \
    $(wildcard $(TFLM_DIR)/gen/*/lib/libtensorflow-microlite.a) \
    $(wildcard $(TFLM_DIR)/libtensorflow-microlite.a))
ifeq ($(strip $(TFLM_LIB)),)
$(error no libtensorflow-microlite.a under $(TFLM_DIR)/gen/*/lib or $(TFLM_DIR); build TFLM for cortex-m4+fp or pass TFLM_LIB=)
endif
# Header roots of a git checkout (downloads/) and of an exported tree (third_party/).
HIL_TFLM_INCLUDES := $(TFLM_DIR) \
    $(wildcard $(TFLM_DIR)/tensorflow/lite/micro/tools/make/downloads/flatbuffers/include) \
    $(wildcard $(TFLM_DIR)/tensorflow/lite/micro/tools/make/downloads/gemmlowp) \
    $(wildcard $(TFLM_DIR)/tensorflow/lite/micro/tools/make/downloads/ruy) \
    $(wildcard $(TFLM_DIR)/third_party/flatbuffers/include) \
    $(wildcard $(TFLM_DIR)/third_party/gemmlowp) \
    $(wildcard $(TFLM_DIR)/third_party/ruy)
ENGINE_CXXSRCS += $(ENGINE_DIR)/tflm/engine_tflm.cc $(ENGINE_DIR)/tflm/tflm_ops.cc
ENGINE_SRCS += $(ENGINE_DIR)/hil_status.c
# TFLM headers only matter to the adapter; -isystem keeps the firmware's -Werror warnings
# about our code, not about TFLM's headers.
ENGINE_CXXFLAGS += $(addprefix -isystem ,$(HIL_TFLM_INCLUDES)) -DTF_LITE_STATIC_MEMORY \
    -fno-rtti -fno-exceptions -fno-threadsafe-statics
ENGINE_CXXFLAGS += -DNDEBUG -DTF_LITE_STRIP_ERROR_STRINGS
TFLM_CMSIS_NN ?= $(if $(findstring cmsis_nn,$(TFLM_LIB)),1,0)
ifeq ($(TFLM_CMSIS_NN),1)
ENGINE_CXXFLAGS += -DCMSIS_NN
endif
TFLM_INT16 ?= 0
ifeq ($(TFLM_INT16),1)
ENGINE_CXXFLAGS += -DHIL_TFLM_INT16
endif
ENGINE_LDLIBS += $(TFLM_LIB) -lm
# a rebuilt library at the same path is another image: its size and mtime
ENGINE_ID += TFLM_LIB=$(abspath $(TFLM_LIB)):$(shell stat -c '%s:%Y' $(TFLM_LIB))
endif

# Recipes expand when they run, after firmware/Makefile has set CFLAGS and CXXFLAGS. The rule must
# not become the default goal: clearing .DEFAULT_GOAL lets the Makefile's next target (all) be it.
HIL_DEPFLAGS := -MMD -MP
.PHONY: print-engine-flags
print-engine-flags:
	$(info HIL_ENGINE_CC=$(CC))
	$(info HIL_ENGINE_CXX=$(CXX))
	$(info HIL_ENGINE_C_SRCS=$(abspath $(ENGINE_SRCS)))
	$(info HIL_ENGINE_CXX_SRCS=$(abspath $(ENGINE_CXXSRCS)))
	$(info HIL_ENGINE_CFLAGS=$(filter-out $(HIL_DEPFLAGS),$(CFLAGS)) $(ENGINE_CFLAGS))
	$(info HIL_ENGINE_CXXFLAGS=$(filter-out $(HIL_DEPFLAGS),$(CXXFLAGS)) $(ENGINE_CXXFLAGS))
	$(info HIL_ENGINE_ARCH_FLAGS=$(BOARD_ARCH_FLAGS))
	$(info HIL_ENGINE_LDLIBS=$(ENGINE_LDLIBS))
	@:
ifeq ($(.DEFAULT_GOAL),print-engine-flags)
.DEFAULT_GOAL :=
endif
