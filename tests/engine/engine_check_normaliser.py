"""Run inside the engine environment (Python 3.10, rasa 3.6) by test_normaliser.py.

Prints JSON describing what the IndicNormaliser component does to training data and to
incoming messages.
"""

import json

from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.normaliser import ORIGINAL_TEXT, IndicNormaliser

TRAINING = """
version: "3.1"
nlu:
- intent: choose_language
  examples: |
    - [বাংলা]{"entity": "language", "value": "bn"} তে বলুন
    - [hindi]{"entity": "language", "value": "hi"} me baat karo
- intent: inform_location
  examples: |
    - मैं [सूरत]{"entity": "district", "value": "Surat"} में हूँ
- lookup: district
  examples: |
    - मुर्शिदाबाद
- synonym: bn
  examples: |
    - বাংলা
"""

component = IndicNormaliser()
data = component.process_training_data(RasaYAMLReader().reads(TRAINING))
examples = [
    {
        "text": m.get("text"),
        "original": m.get(ORIGINAL_TEXT),
        "entities": [
            {"span": m.get("text")[e["start"] : e["end"]], "value": e["value"]}
            for e in m.get("entities") or []
        ],
    }
    for m in data.training_examples
]
incoming = [
    Message(data={"text": t})
    for t in ["मुझे मदद चाहिए", "mujhe madad chahiye", '/choose_language{"language": "or"}']
]
component.process(incoming)
print(
    json.dumps(
        {
            "examples": examples,
            "lookup": data.lookup_tables[0]["elements"],
            "synonyms": data.entity_synonyms,
            "incoming": [m.get("text") for m in incoming],
            "required": IndicNormaliser.required_packages(),
        },
        ensure_ascii=False,
    )
)
