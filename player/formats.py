"""What each content format the importer recognises is called in words (no imports: the importer's
messages and the possible-duplicates list both name formats by it)."""

FORMAT_NAMES = {"mp3": "MP3", "ogg": "Ogg", "opus": "Opus", "flac": "FLAC", "wav": "WAV", "m4a": "M4A/MP4",
                "aac": "AAC", "aiff": "AIFF", "speex": "Speex", "oggflac": "Ogg FLAC", "asf": "WMA",
                "wv": "WavPack", "ape": "Monkey's Audio", "mpc": "Musepack", "mka": "Matroska", "tta": "TTA"}
