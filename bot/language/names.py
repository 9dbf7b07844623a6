"""The helpline's languages, their names, and recognising a language being named."""

from __future__ import annotations

import re
from functools import lru_cache

from bot.language.folding import normalise

LANGUAGES: tuple[str, ...] = (
    "en",
    "hi",
    "bn",
    "or",
    "as",
    "mr",
    "gu",
    "pa",
    "ta",
    "te",
    "kn",
    "ml",
)

LANGUAGE_NAMES: dict[str, tuple[str, str]] = {
    "en": ("English", "English"),
    "hi": ("Hindi", "हिन्दी"),
    "bn": ("Bengali", "বাংলা"),
    "or": ("Odia", "ଓଡ଼ିଆ"),
    "as": ("Assamese", "অসমীয়া"),
    "mr": ("Marathi", "मराठी"),
    "gu": ("Gujarati", "ગુજરાતી"),
    "pa": ("Punjabi", "ਪੰਜਾਬੀ"),
    "ta": ("Tamil", "தமிழ்"),
    "te": ("Telugu", "తెలుగు"),
    "kn": ("Kannada", "ಕನ್ನಡ"),
    "ml": ("Malayalam", "മലയാളം"),
}

# How people write each language's name: its own script, romanisations, and the
# spellings speakers of the other languages use (a Hindi speaker writes "तमिल").
# Everything is compared after `normalise`, so spelling variants that fold together
# (हिंदी/हिन्दी/hindi/hindee) need only one entry. Whitespace-separated, one name a word.
_ALIASES: dict[str, str] = {
    "en": """
        english inglish angrezi angreji angrejee engrezi ingreji अंग्रेज़ी अंग्रेजी
        इंग्लिश ইংরেজি ইংৰাজী ଇଂରାଜୀ इंग्रजी અંગ્રેજી ਅੰਗਰੇਜ਼ੀ ஆங்கிலம் ఇంగ్లీష్ ఆంగ్లం
        ಇಂಗ್ಲಿಷ್ ಇಂಗ್ಲೀಷ್ ഇംഗ്ലീഷ് ingleesh aangilam
    """,
    "hi": """
        hindi hindee हिंदी हिन्दी হিন্দি ହିନ୍ଦୀ હિન્દી ਹਿੰਦੀ ஹிந்தி హిందీ ಹಿಂದಿ ഹിന്ദി
    """,
    "bn": """
        bangla bengali bangali bongali bangala বাংলা বাঙ্গালি বাঙালি बांग्ला बंगाली
        ବଙ୍ଗଳା ବଙ୍ଗାଳୀ બંગાળી ਬੰਗਾਲੀ வங்காளம் బెంగాలీ ಬಂಗಾಳಿ ബംഗാളി
    """,
    "or": """
        odia oriya odiya oria ଓଡ଼ିଆ ଓଡିଆ उड़िया ओड़िया ओडिया ওড়িয়া ওড়িআ ઓડિયા ਉੜੀਆ
        ஒடியா ఒడియా ಒಡಿಯಾ ഒഡിയ
    """,
    "as": """
        assamese asomiya axomiya ahomiya asamiya oxomiya অসমীয়া অসমিয়া असमिया असमी
        ଅସମିଆ આસામી ਅਸਾਮੀ அசாமி అస్సామీ ಅಸ್ಸಾಮಿ ആസാമീസ്
    """,
    "mr": """
        marathi मराठी মারাঠি ମରାଠୀ મરાઠી ਮਰਾਠੀ மராத்தி మరాఠీ ಮರಾಠಿ മറാഠി
    """,
    "gu": """
        gujarati gujrati gujarathi ગુજરાતી गुजराती গুজরাটি ଗୁଜରାଟୀ ਗੁਜਰਾਤੀ குஜராத்தி
        గుజరాతీ ಗುಜರಾತಿ ഗുജറാത്തി
    """,
    "pa": """
        punjabi panjabi punjaabi ਪੰਜਾਬੀ पंजाबी পাঞ্জাবি ପଞ୍ଜାବୀ પંજાબી பஞ்சாபி పంజాబీ
        ಪಂಜಾಬಿ പഞ്ചാബി
    """,
    "ta": """
        tamil tamizh thamizh thamil தமிழ் तमिल তামিল ତାମିଲ તમિલ ਤਾਮਿਲ తమిళం తమిళ్ ತಮಿಳು
        തമിഴ്
    """,
    "te": """
        telugu telgu thelugu తెలుగు तेलुगु तेलुगू তেলুগু ତେଲୁଗୁ તેલુગુ ਤੇਲਗੂ தெலுங்கு
        ತೆಲುಗು തെലുങ്ക്
    """,
    "kn": """
        kannada kanada kannad ಕನ್ನಡ कन्नड़ कन्नड কন্নড় କନ୍ନଡ કન્નડ ਕੰਨੜ கன்னடம் కన్నడ
        കന്നഡ
    """,
    "ml": """
        malayalam malyalam malayalm മലയാളം मलयालम মালায়ালম ମାଲାୟାଲମ મલયાલમ ਮਲਿਆਲਮ
        மலையாளம் మలయాళం ಮಲಯಾಳಂ
    """,
}

_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for code, aliases in _ALIASES.items():
        for alias in (*aliases.split(), *LANGUAGE_NAMES[code]):
            for form in (normalise(alias), normalise(alias).replace(" ", "")):
                if form:
                    index.setdefault(form, code)
    return index


def _within_one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


def parse_language_name(text: str) -> str | None:
    """Recognise a language named in a message, in any script or romanisation.

    "hindi", "हिंदी", "bangla", "ଓଡ଼ିଆ", "axomiya", "தமிழ்", "angrezi", "hindi me baat
    karo" all name a language. Menu digits are the caller's business.

    Args:
        text: The user's message.

    Returns:
        The ISO 639-1 code of the one language named, or None when no language, or
        more than one different language, is named.
    """
    words = _WORD.findall(normalise(text or "")) if not (text or "").startswith("/") else []
    if not words:
        return None
    index = _alias_index()
    found: set[str] = set()
    for word in words:
        code = index.get(word)
        if code is None and len(word) >= 5:
            # One slip of the thumb ("malyalm", "gujrathi") still names the language;
            # short words are left alone so ordinary words do not become names.
            code = next(
                (
                    c
                    for alias, c in index.items()
                    if len(alias) >= 5 and _within_one_edit(word, alias)
                ),
                None,
            )
        if code is not None:
            found.add(code)
    return found.pop() if len(found) == 1 else None
