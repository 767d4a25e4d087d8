"""The agent (firmware/agent/) as a team links it: a foreign Makefile includes agent/agent.mk,
compiles it with a minimal port (no upload, no reset, no fault injection, a linked model) for
the host, and the harness's own codec and INFO parser talk to it over stdin/stdout.

It checks what a team's firmware shows the harness: INFO with CAPABILITIES and the linked
model's CRC-32, inference replies (input bytes fed, outputs, cost = cycles around invoke only),
and UNKNOWN_TYPE for what the port does not offer."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib

import pytest

from harness.firmware.build import FIRMWARE_DIR
from harness.link.frame import Frame, FrameReader, encode_frame
from harness.link.protocol import Capability, ErrorCode, MsgType, parse_info

AGENT_MK = FIRMWARE_DIR / "agent" / "agent.mk"
TAG_CAPABILITIES = 18
CAP_INFER_CODES, CAP_INFER_WINDOW, CAP_MODEL_UPLOAD, CAP_SET_PREPROCESS, CAP_RESET, CAP_FAULT = (1 << i for i in range(6))
MODEL = b"TFL3 stand-in model bytes: the agent only checksums them"

PORT_C = r"""
#include <stdio.h>
#include <string.h>
#include "hil_agent/agent.h"

static const uint8_t model_bytes[] = MODEL_BYTES;
static int8_t input[4 * 2];  /* (1, 4, 2): 4 samples x 2 channels */
static int8_t output[3];
static uint32_t ticks;

static void port_write(const uint8_t *data, size_t len) { fwrite(data, 1u, len, stdout); }
static uint32_t port_cycles(void) { ticks += 1000u; return ticks; }

static int port_model(hil_agent_model_t *model)
{
    model->bytes = model_bytes;
    model->size = sizeof model_bytes - 1u; /* without the string's NUL */
    model->arena_used = 1234u;
    model->n_inputs = 1u;
    model->n_outputs = 1u;
    model->input = (hil_agent_tensor_t){.data = input, .bytes = sizeof input, .dtype = HIL_AGENT_DTYPE_INT8,
                                        .rank = 3u, .dims = {1, 4, 2}, .scale = 0.5f, .zero_point = -3};
    model->output = (hil_agent_tensor_t){.data = output, .bytes = sizeof output, .dtype = HIL_AGENT_DTYPE_INT8,
                                         .rank = 2u, .dims = {1, 3}, .scale = 1.0f / 256.0f, .zero_point = -128};
    return 0;
}

static int port_invoke(hil_agent_error_t *error)
{
    (void)error;
    int sum = 0;
    for (size_t i = 0; i < sizeof input; i++) {
        sum += input[i];
    }
    output[0] = (int8_t)(sum / 8);
    output[1] = input[0];
    output[2] = input[sizeof input - 1u];
    ticks += 5u; /* the model's own cost: the reply says 1005, one counter step + this */
    return 0;
}

static int port_window_shape(const hil_agent_tensor_t *tensor, uint32_t *n_axes, uint32_t *n_samples,
                             hil_agent_error_t *error)
{
    (void)error;
    *n_axes = 2u;
    *n_samples = tensor->bytes / 2u;
    return 0;
}

/* the team's preprocessing: counts / 256 */
static int port_preprocess(const int16_t *counts, uint32_t n_samples, uint32_t n_axes,
                           const hil_agent_tensor_t *tensor, hil_agent_error_t *error)
{
    if (n_samples * n_axes != tensor->bytes) {
        hil_agent_error_text(error, "window does not fill the tensor");
        return -1;
    }
    int8_t *codes = tensor->data;
    for (uint32_t i = 0; i < n_samples * n_axes; i++) {
        codes[i] = (int8_t)(counts[i] / 256);
    }
    return 0;
}

static const hil_agent_port_t port = {
    .firmware_version = "9.9.9", .board = "team_board", .build_id = "team-build", .engine = "tflm",
    .cpu = "cortex-m4f", .cost_unit = "cycles", .reset_cause = "power-on",
    .write = port_write, .cycles = port_cycles,
    .model = port_model, .invoke = port_invoke, .arena_size = 4096u,
    .window_shape = port_window_shape, .preprocess = port_preprocess,
};

int main(void)
{
    if (hil_agent_init(&port) != HIL_AGENT_OK) {
        return 1;
    }
    hil_agent_boot();
    uint8_t chunk[256];
    size_t n;
    while ((n = fread(chunk, 1u, sizeof chunk, stdin)) > 0u) {
        hil_agent_rx_feed(chunk, n);
        if (!hil_agent_poll()) {
            return 2;
        }
    }
    return 0;
}
"""

FOREIGN_MAKEFILE = """\
include {agent_mk}
CFLAGS := -std=c11 -O1 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wconversion \\
	$(addprefix -I,$(HIL_AGENT_INCLUDES)) $(HIL_AGENT_DEFINES)
team_fw: team_port.c $(HIL_AGENT_SRCS)
\t$(CC) $(CFLAGS) $^ -o $@
# the same sources for a Cortex-M4F, as a team's firmware compiles them
arm_objs: team_port.c $(HIL_AGENT_SRCS)
\tfor src in $^; do arm-none-eabi-gcc $(CFLAGS) -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \\
\t\t-Os -ffunction-sections -fdata-sections -c $$src -o $$(basename $$src).o || exit 1; done
\tarm-none-eabi-g++ -std=c++17 -Wall -Wextra -Werror -mcpu=cortex-m4 -mthumb $(addprefix -I,$(HIL_AGENT_INCLUDES)) \\
\t\t-c tflm_port.cc -o tflm_port.cc.o
"""

# a TFLM port is C++: the agent's headers must compile there too
TFLM_PORT_CC = """\
#include "hil_agent/agent.h"
extern "C" int team_invoke(hil_agent_error_t *error);
int team_invoke(hil_agent_error_t *error)
{
    hil_agent_error_set(error, HIL_LINK_ERR_INVOKE_FAILED, 1u);
    hil_agent_error_text(error, "Invoke failed");
    return static_cast<int>(hil_crc32(nullptr, 0u) != 0u);
}
"""


@pytest.fixture(scope="module")
def team_firmware(tmp_path_factory):
    if shutil.which("make") is None or shutil.which("cc") is None:
        pytest.skip("make and cc are needed to build the agent for the host")
    work = tmp_path_factory.mktemp("team")
    literal = '"' + "".join(f"\\x{b:02x}" for b in MODEL) + '"'
    (work / "team_port.c").write_text(PORT_C.replace("MODEL_BYTES", literal))
    (work / "tflm_port.cc").write_text(TFLM_PORT_CC)
    (work / "Makefile").write_text(FOREIGN_MAKEFILE.format(agent_mk=AGENT_MK))
    built = subprocess.run(["make", "-C", str(work), "team_fw"], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    return work / "team_fw"


def test_the_agent_cross_compiles_from_a_foreign_makefile(team_firmware):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    built = subprocess.run(["make", "-C", str(team_firmware.parent), "arm_objs"], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    agent_sources = sorted(p.name for p in (FIRMWARE_DIR / "agent" / "src").rglob("*.c"))
    assert {"agent.c", "agent_dispatch.c", "infer.c", "infer_model.c", "infer_upload.c"} <= set(agent_sources)
    missing = [name for name in agent_sources if not (team_firmware.parent / f"{name}.o").is_file()]
    assert not missing, f"agent sources agent.mk did not hand to the foreign Makefile: {missing}"
    assert (team_firmware.parent / "tflm_port.cc.o").is_file()


def converse(firmware, requests: list[Frame]) -> list[Frame]:
    wire = b"".join(encode_frame(r) for r in requests)
    run = subprocess.run([str(firmware)], input=wire, capture_output=True, timeout=30)
    assert run.returncode == 0, run.stderr
    frames = FrameReader(2048).feed(run.stdout)
    assert all(isinstance(f, Frame) for f in frames), frames
    return frames


def error_code(frame: Frame) -> int:
    assert frame.type == MsgType.ERROR
    return struct.unpack_from("<H", frame.payload)[0]


def test_boot_and_info_announce_the_linked_model_and_the_capabilities(team_firmware):
    boot, info = converse(team_firmware, [Frame(MsgType.INFO, 1)])
    assert boot.type == MsgType.BOOT and info.type == MsgType.INFO | 0x80
    assert boot.payload == info.payload
    parsed = parse_info(info.payload)
    assert (parsed.board, parsed.engine, parsed.cost_unit, parsed.max_payload, parsed.rx_buffer) == \
        ("team_board", "tflm", "cycles", 2048, 4096)
    assert parsed.model_source == "linked"
    assert parsed.model_crc32 == zlib.crc32(MODEL) and parsed.model_bytes == len(MODEL)
    assert (parsed.model_buffer, parsed.arena_used, parsed.arena_size) == (0, 1234, 4096)
    assert parsed.unknown == {} and parsed.capabilities == CAP_INFER_CODES | CAP_INFER_WINDOW
    assert parsed.serves(Capability.INFER_WINDOW) and not parsed.serves(Capability.MODEL_UPLOAD)
    assert info.payload[-6:] == bytes([TAG_CAPABILITIES, 4]) + struct.pack("<I", 3)  # the last tag


def test_inference_replies_carry_the_input_fed_the_outputs_and_the_cost(team_firmware):
    counts = [256 * v for v in (1, -2, 3, -4, 5, -6, 7, -8)]
    window = struct.pack("<BBH", 0, 2, 4) + struct.pack("<8h", *counts)
    codes = bytes([1, 2, 3, 4, 5, 6, 7, 0xF8])
    _, by_window, by_codes, model_info = converse(team_firmware, [
        Frame(MsgType.INFER_WINDOW, 2, window), Frame(MsgType.INFER_CODES, 3, b"\x00\x00\x00\x00" + codes),
        Frame(MsgType.MODEL_INFO, 4)])
    cost, in_len, out_len = struct.unpack_from("<IHH", by_window.payload)
    assert (cost, in_len, out_len) == (1005, 8, 3)
    fed = by_window.payload[8:16]
    assert fed == struct.pack("<8b", 1, -2, 3, -4, 5, -6, 7, -8)
    assert by_window.payload[16:] == struct.pack("<3b", 0, 1, -8)
    assert by_codes.payload[8:16] == codes and by_codes.payload[16:] == struct.pack("<3b", 2, 1, -8)
    assert model_info.type == MsgType.MODEL_INFO | 0x80 and len(model_info.payload) == 100
    crc, size, arena_used, arena_size, source, n_in, n_out = struct.unpack_from("<IIIIBBB", model_info.payload)
    assert (crc, size, arena_used, arena_size, source, n_in, n_out) == (zlib.crc32(MODEL), len(MODEL), 1234, 4096, 1, 1, 1)
    dtype, rank = model_info.payload[20], model_info.payload[21]
    dims = struct.unpack_from("<6i", model_info.payload, 24)
    scale, zero_point, nbytes = struct.unpack_from("<fiI", model_info.payload, 48)
    assert (dtype, rank, dims[:3], scale, zero_point, nbytes) == (9, 3, (1, 4, 2), 0.5, -3, 8)


def test_a_window_of_the_wrong_shape_is_refused(team_firmware):
    _, axes, samples = converse(team_firmware, [
        Frame(MsgType.INFER_WINDOW, 5, struct.pack("<BBH", 0, 3, 4) + bytes(24)),
        Frame(MsgType.INFER_WINDOW, 6, struct.pack("<BBH", 0, 2, 5) + bytes(20))])
    assert error_code(axes) == error_code(samples) == ErrorCode.SHAPE_MISMATCH
    assert b"window has 3 axes, preprocessing reads 2" in axes.payload


@pytest.mark.parametrize("request_type", [MsgType.LOAD_BEGIN, MsgType.RESET, MsgType.CRASH, MsgType.FAULT_ARM,
                                          MsgType.SET_PREPROCESS])
def test_what_the_port_does_not_offer_is_an_unknown_type(team_firmware, request_type):
    payload = bytes(8) if request_type == MsgType.LOAD_BEGIN else (bytes(4) if request_type == MsgType.FAULT_ARM else b"")
    _, reply, after = converse(team_firmware, [Frame(request_type, 7, payload), Frame(MsgType.ECHO, 8, b"still here")])
    assert error_code(reply) == ErrorCode.UNKNOWN_TYPE
    assert after == Frame(MsgType.ECHO | 0x80, 8, b"still here")
