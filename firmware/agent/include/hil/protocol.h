/*
 * Link protocol v1 tables (docs/protocol.md).
 *
 * The names and values here are ONE table with harness/link/protocol.py (MsgType, ErrorCode,
 * InfoTag): tests/firmware/test_protocol_tables.py parses the three enums below and compares.
 * Keep the form `HIL_<GROUP>_<PYTHON NAME> = <value>,` (groups MSG, LINK_ERR, TAG) so that test can read them.
 */
#ifndef HIL_PROTOCOL_H
#define HIL_PROTOCOL_H

#define HIL_PROTOCOL_VERSION 1u
#define HIL_FRAME_HEADER_SIZE 8u
#define HIL_FRAME_CRC_SIZE 4u
#define HIL_FRAME_OVERHEAD (HIL_FRAME_HEADER_SIZE + HIL_FRAME_CRC_SIZE)
#define HIL_RESPONSE_BIT 0x80u
/* seq of an error reply to a frame whose header could not be trusted */
#define HIL_SEQ_UNKNOWN 0xFFFFu

/* MsgType */
enum hil_msg_type {
    HIL_MSG_INFO = 0x01,
    HIL_MSG_ECHO = 0x02,
    HIL_MSG_RESET = 0x03,
    HIL_MSG_FAULT_ARM = 0x0E,
    HIL_MSG_CRASH = 0x0F,
    HIL_MSG_SET_PREPROCESS = 0x10,
    HIL_MSG_LOAD_BEGIN = 0x11,
    HIL_MSG_LOAD_CHUNK = 0x12,
    HIL_MSG_LOAD_END = 0x13,
    HIL_MSG_MODEL_INFO = 0x14,
    HIL_MSG_INFER_WINDOW = 0x15,
    HIL_MSG_INFER_CODES = 0x16,
    HIL_MSG_INFER_LAYERS = 0x17,
    HIL_MSG_ERROR = 0x7F,
    HIL_MSG_BOOT = 0xC0,
    HIL_MSG_FAULT = 0xC1,
};

/* ErrorCode (HIL_LINK_ERR_: the engine owns HIL_ERR_ for its hil_status) */
enum hil_error_code {
    HIL_LINK_ERR_BAD_COBS = 1,
    HIL_LINK_ERR_TRUNCATED = 2,
    HIL_LINK_ERR_BAD_CRC = 3,
    HIL_LINK_ERR_BAD_VERSION = 4,
    HIL_LINK_ERR_BAD_LENGTH = 5,
    HIL_LINK_ERR_OVERSIZE = 6,
    HIL_LINK_ERR_UNKNOWN_TYPE = 7,
    HIL_LINK_ERR_BAD_PAYLOAD = 8,
    HIL_LINK_ERR_INTERNAL = 9,
    HIL_LINK_ERR_BAD_STATE = 10,
    HIL_LINK_ERR_TOO_LARGE = 11,
    HIL_LINK_ERR_OUT_OF_ORDER = 12,
    HIL_LINK_ERR_BAD_CHUNK_CRC = 13,
    HIL_LINK_ERR_BAD_MODEL_CRC = 14,
    HIL_LINK_ERR_MODEL_REJECTED = 15,
    HIL_LINK_ERR_BAD_PREPROCESS = 16,
    HIL_LINK_ERR_SHAPE_MISMATCH = 17,
    HIL_LINK_ERR_INVOKE_FAILED = 18,
};

/* InfoTag */
enum hil_info_tag {
    HIL_TAG_PROTOCOL_VERSION = 1,
    HIL_TAG_FIRMWARE_VERSION = 2,
    HIL_TAG_BOARD = 3,
    HIL_TAG_BUILD_ID = 4,
    HIL_TAG_ENGINE = 5,
    HIL_TAG_MAX_PAYLOAD = 6,
    HIL_TAG_CPU = 7,
    HIL_TAG_COST_UNIT = 8,
    HIL_TAG_RX_BUFFER = 9,
    HIL_TAG_RESET_CAUSE = 10,
    HIL_TAG_MODEL_CRC32 = 11,
    HIL_TAG_MODEL_BYTES = 12,
    HIL_TAG_MODEL_BUFFER = 13,
    HIL_TAG_ARENA_USED = 14,
    HIL_TAG_ARENA_SIZE = 15,
    HIL_TAG_MODEL_SOURCE = 16,
    HIL_TAG_PREPROCESS_CHANNELS = 17,
    HIL_TAG_CAPABILITIES = 18,
};

/* ERROR payload: code:u16 request_type:u8 reserved:u8 detail:u32, then optional UTF-8 text */
#define HIL_ERROR_HEADER_SIZE 8u
/* Pipeline payloads (docs/protocol.md, "Pipeline"). Each layout is written name:type in wire order
 * (u8 i8 u16 i16 u32 i32 i64 f32, name[n] for n of them, reserved:N for N unused bytes), all
 * little-endian; tests/device/test_pipeline_tables.py checks them against the host's structs
 * and parsers. */
#define HIL_LOAD_BEGIN_SIZE 8u            /* size:u32 crc32:u32 */
#define HIL_LOAD_BEGIN_REPLY_SIZE 8u      /* model_buffer:u32 max_chunk:u16 reserved:2 */
#define HIL_LOAD_CHUNK_HEADER_SIZE 8u     /* offset:u32 crc32:u32 */
#define HIL_INFER_HEADER_SIZE 4u          /* flags:u8 n_axes:u8 n_samples:u16 (codes: flags + 3 reserved) */
#define HIL_INFER_CODES_HEADER_SIZE 4u    /* flags:u8 reserved:3 */
#define HIL_INFER_REPLY_HEADER_SIZE 8u    /* cost:u32 input_len:u16 output_len:u16 */
#define HIL_INFER_FLAG_EXCLUSIVE 0x01u    /* interrupts masked around invoke */
/* INFER_LAYERS reply stream (docs/protocol.md, "INFER_LAYERS"): per frame a 24-byte chunk header,
 * the op's output tensor description (HIL_TENSOR_DESC_SIZE), the bytes */
/* frame:u16 flags:u8 reserved:1 op_index:u16 n_ops:u16 op_code:u16 tensor_index:u16 cost:u32 offset:u32 crc32:u32 */
#define HIL_LAYER_CHUNK_HEADER_SIZE 24u
#define HIL_LAYER_FLAG_LAST 0x01u         /* the last frame of the stream */
#define HIL_PREPROCESS_HEADER_SIZE 8u     /* kind:u8 n_channels:u8 n_axes:u8 first:u8 count:u8 reserved:3 */
#define HIL_PREPROCESS_REPLY_SIZE 4u      /* received:u8 total:u8 ready:u8 reserved:1 */
/* kind 1 (int8 codes): */
/* source_axis:u8 shift:u8 code_min:i8 code_max:i8 multiplier:i32 offset:i64 zero_point:i32 */
#define HIL_AFFINE_RECORD_SIZE 20u
/* kind 3 (int16 codes): */
/* source_axis:u8 shift:u8 reserved:2 code_min:i16 code_max:i16 multiplier:i32 offset:i64 zero_point:i32 */
#define HIL_AFFINE16_RECORD_SIZE 24u
/* kind 2, then n_thresholds x i32 ascending: */
/* source_axis:u8 reserved:1 code_base:i16 n_thresholds:u16 reserved:2 */
#define HIL_THRESHOLD_RECORD_HEADER_SIZE 8u
/* dtype:u8 rank:u8 reserved:2 dims[6]:i32 scale:f32 zero_point:i32 bytes:u32 */
#define HIL_TENSOR_DESC_SIZE 40u
/* then the input's and the output's tensor description: */
/* crc32:u32 size:u32 arena_used:u32 arena_size:u32 source:u8 n_inputs:u8 n_outputs:u8 reserved:1 */
#define HIL_MODEL_DESC_HEADER_SIZE 20u
#define HIL_MODEL_DESC_SIZE (HIL_MODEL_DESC_HEADER_SIZE + 2u * HIL_TENSOR_DESC_SIZE)

/* FAULT_ARM payload (test-only): mode:u8 reserved:u8 after:u16. Modes: HANG spins with interrupts
 * masked (no reply until a reset); CRASH executes udf (HardFault, FAULT frame, halt). */
#define HIL_FAULT_ARM_SIZE 4u
#define HIL_FAULT_MODE_HANG 1u
#define HIL_FAULT_MODE_CRASH 2u

/* FAULT payload: 12 x u32 CFSR HFSR MMFAR BFAR R0 R1 R2 R3 R12 LR PC xPSR */
#define HIL_FAULT_WORDS 12u

#endif /* HIL_PROTOCOL_H */
