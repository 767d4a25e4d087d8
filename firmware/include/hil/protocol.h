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
    HIL_MSG_CRASH = 0x0F,
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
};

/* ERROR payload: code:u16 request_type:u8 reserved:u8 detail:u32, then optional UTF-8 text */
#define HIL_ERROR_HEADER_SIZE 8u
/* FAULT payload: 12 x u32 CFSR HFSR MMFAR BFAR R0 R1 R2 R3 R12 LR PC xPSR */
#define HIL_FAULT_WORDS 12u

#endif /* HIL_PROTOCOL_H */
