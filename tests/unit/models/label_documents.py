"""Result documents with string speaker labels and with SenseVoice's inline tags, shared by the tests of
the models, the formats, the streaming parser and the UI."""

from __future__ import annotations

from typing import Any

#: Fun-ASR with diarization, speakers named by strings: spk10 sorts after spk2, and none collapses.
STRING_SPEAKERS: dict[str, Any] = {
    "file_url": "https://example.com/meeting.wav",
    "properties": {
        "audio_format": "pcm_s16le",
        "channels": [0],
        "original_sampling_rate": 16000,
        "original_duration_in_milliseconds": 9000,
    },
    "transcripts": [
        {
            "channel_id": 0,
            "content_duration_in_milliseconds": 8000,
            "text": "Hello. Hi. Welcome. Thanks. Bye.",
            "sentences": [
                {"sentence_id": i, "begin_time": b, "end_time": b + 900, "text": text, "speaker_id": speaker}
                for i, (b, text, speaker) in enumerate(
                    [
                        (0, "Hello.", "spk0"),
                        (1000, "Hi.", "spk1"),
                        (2000, "Welcome.", "spk10"),
                        (3000, "Thanks.", "spk2"),
                        (4000, "Bye.", "spk2"),
                    ],
                    start=1,
                )
            ],
        }
    ],
}

#: SenseVoice (``sensevoice-v1``): a Fun-ASR document whose texts hold inline tags.
SENSEVOICE: dict[str, Any] = {
    "file_url": "https://example.com/sensevoice.wav",
    "properties": {
        "audio_format": "pcm_s16le",
        "channels": [0],
        "original_sampling_rate": 16000,
        "original_duration_in_milliseconds": 9000,
    },
    "transcripts": [
        {
            "channel_id": 0,
            "content_duration_in_milliseconds": 8000,
            "text": "<|Speech|> Hello world, this is SenseVoice. <|/Speech|><|HAPPY|><|en|>"
            "<|BGM|><|Applause|>今天<|/Applause|>天气好棒啊。<|/BGM|><|NEUTRAL|><|zh|><|withitn|>",
            "sentences": [
                {
                    "sentence_id": 1,
                    "begin_time": 100,
                    "end_time": 3800,
                    "text": "<|Speech|> Hello world, this is SenseVoice. <|/Speech|><|HAPPY|><|en|>",
                    "words": [
                        {"begin_time": 100, "end_time": 596, "text": "<|Speech|>Hello ", "punctuation": ""},
                        {"begin_time": 596, "end_time": 844, "text": "world", "punctuation": ", "},
                    ],
                },
                {
                    "sentence_id": 2,
                    "begin_time": 4000,
                    "end_time": 6000,
                    "text": "<|BGM|><|Applause|>今天<|/Applause|>天气好棒啊。<|/BGM|>"
                    "<|NEUTRAL|><|zh|><|withitn|>",
                    "words": [],
                },
                {
                    "sentence_id": 3,
                    "begin_time": 6500,
                    "end_time": 8000,
                    "text": "<|SPECIAL_TOKEN_1|><|nospeech|><|Event_UNK|>",
                    "words": [],
                },
            ],
        }
    ],
}
