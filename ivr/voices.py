"""Twilio's voices and speech recognition for each of Sahay's twelve languages, in one table.

Each row says how a caller in that language hears the helpline (a Twilio `<Say>` voice, or
pre-recorded prompts played with `<Play>` where Twilio has no voice) and whether
`<Gather input="speech">` can listen to them (otherwise keypad only).

Sources, with what each one settles, are listed in `ivr/README.md` ("Voices"). In short:
Polly.Aditi (en-IN, hi-IN), Google mr-IN, pa-IN, te-IN, ta-IN and ml-IN voices are on
Twilio's own voice list (TwilioDevEd/api-snippets, `voice/tts/available-voices-list.md`);
the bn-IN, gu-IN and kn-IN voices and the speech-recognition list come from a later copy
of Twilio's lists in another project and are NOT yet checked against Twilio's pages;
espeak-ng's `--voices` lists `or` and `as`. Check the unverified rows in the Twilio
console (Voice > TwiML > Text-to-speech) before go-live.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Voice:
    """How one language sounds and is heard on a call.

    Attributes:
        language: ISO 639-1 code, as everywhere in Sahay.
        say_voice: Twilio `<Say voice=...>`; None where Twilio has no voice for it.
        say_locale: Twilio `<Say language=...>` (BCP-47), None with no voice.
        speech_locale: `<Gather language=...>` for speech input; None means keypad only.
        espeak_voice: espeak-ng voice that records the prompts when Twilio cannot speak.
    """

    language: str
    say_voice: str | None
    say_locale: str | None
    speech_locale: str | None
    espeak_voice: str | None = None

    @property
    def speaks(self) -> bool:
        """Twilio can say text in this language itself."""
        return self.say_voice is not None

    @property
    def listens(self) -> bool:
        """Twilio can recognise speech in this language."""
        return self.speech_locale is not None


VOICES: dict[str, Voice] = {
    voice.language: voice
    for voice in (
        # Amazon Polly's Aditi speaks both Indian English and Hindi.
        Voice("en", "Polly.Aditi", "en-IN", "en-IN"),
        Voice("hi", "Polly.Aditi", "hi-IN", "hi-IN"),
        # Twilio lists Bengali, Gujarati and Kannada Google voices C and D, not A.
        Voice("bn", "Google.bn-IN-Standard-C", "bn-IN", "bn-IN"),
        # No Twilio voice and no speech recognition: espeak-ng prompts, keypad only.
        Voice("or", None, None, None, espeak_voice="or"),
        Voice("as", None, None, None, espeak_voice="as"),
        Voice("mr", "Google.mr-IN-Standard-A", "mr-IN", "mr-IN"),
        Voice("gu", "Google.gu-IN-Standard-C", "gu-IN", "gu-IN"),
        # Punjabi has a Google voice but is not on Twilio's speech-recognition list.
        Voice("pa", "Google.pa-IN-Standard-A", "pa-IN", None),
        # Tamil's Standard voices on Twilio are C (female) and D; there is no A.
        Voice("ta", "Google.ta-IN-Standard-C", "ta-IN", "ta-IN"),
        Voice("te", "Google.te-IN-Standard-A", "te-IN", "te-IN"),
        Voice("kn", "Google.kn-IN-Standard-C", "kn-IN", "kn-IN"),
        # Malayalam has no Standard voice on Twilio, only WaveNet (priced as premium).
        Voice("ml", "Google.ml-IN-Wavenet-C", "ml-IN", "ml-IN"),
    )
}

#: The voice that speaks when a language's own prompts are missing.
FALLBACK_LANGUAGE = "en"


def voice_for(language: str | None) -> Voice:
    """The row for `language`, English when unknown."""
    return VOICES.get(language or FALLBACK_LANGUAGE) or VOICES[FALLBACK_LANGUAGE]
