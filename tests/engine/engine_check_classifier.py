"""Run inside the engine environment (Python 3.10, rasa 3.6) by test_classifier.py.

Trains the NgramIntentClassifier on a tiny in-memory data set (behind the
IndicNormaliser, as in config.yml), persists it to a real model storage, loads it back and
prints JSON describing its predictions, rankings and confidences.
"""

import json
import logging
import tempfile
from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.classifier import MODEL_FILE, NgramIntentClassifier
from bot.nlu.normaliser import IndicNormaliser

TRAINING = """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - namaste ji
    - नमस्ते जी
    - hello sir
    - राम राम भाई
    - ram ram bhai
    - namaskar didi
- intent: ask_wages
  examples: |
    - मालिक ने पगार नहीं दी
    - malik ne pagar nahi di
    - do mahine se salary nahi mili
    - दो महीने से तनख्वाह नहीं मिली
    - thekedar paisa nahi de raha
    - मजदूरी का पैसा बाकी है
- intent: express_suicidal_thoughts
  examples: |
    - मैं मरना चाहता हूँ
    - main marna chahta hu
    - jeene ka mann nahi karta
    - जीने का मन नहीं करता
    - sab khatam kar dunga
    - अब जीना नहीं है
- intent: deny
  examples: |
    - nahi
    - नहीं
    - nahi chahiye
    - नहीं चाहिए
    - bilkul nahi
    - na ji
"""

QUERIES = [
    "नमस्ते भाई",  # greet, native script
    "namaste bhai",  # greet, romanised
    "salary nahi mili malik ne",  # ask_wages
    "मुझे मरना है",  # express_suicidal_thoughts
    "nahi ji",  # deny
]


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name="classifier")


def train(storage: LocalModelStorage, resource: Resource, config: dict, data: TrainingData):
    component = NgramIntentClassifier.create(
        {**NgramIntentClassifier.get_default_config(), **config}, storage, resource, context()
    )
    component.train(data)
    return component


def parse(component: NgramIntentClassifier, texts: list) -> list:
    messages = [Message(data={"text": t}) for t in texts]
    IndicNormaliser().process(messages)
    component.process(messages)
    return [{"intent": m.get("intent"), "ranking": m.get("intent_ranking")} for m in messages]


def main() -> None:
    data = IndicNormaliser().process_training_data(RasaYAMLReader().reads(TRAINING))
    config = {"ranking_length": 3}
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        resource = Resource("classifier")
        trained = train(storage, resource, config, data)
        with storage.read_from(resource) as directory:
            files = sorted(p.name for p in directory.iterdir())
        loaded = NgramIntentClassifier.load(config, storage, resource, context())
        before = parse(trained, QUERIES)
        after = parse(loaded, QUERIES)
        full = loaded.rank([m.get("text") for m in _normalised(QUERIES)])
        edge = parse(loaded, ['/choose_language{"language": "hi"}', "", "🙏"])
        # FallbackClassifier, next in config.yml, must cope with every message.
        messages = _normalised(['/choose_language{"language": "hi"}', "", "namaste ji"])
        loaded.process(messages)
        FallbackClassifier({"threshold": 0.3, "ambiguity_threshold": 0.05}).process(messages)
        after_fallback = [m.get("intent")["name"] for m in messages]

        boosted = train(
            storage,
            Resource("boosted"),
            {"intent_boost": {"express_suicidal_thoughts": 1.0}},
            data,
        )
        ambiguous = "jeene ka paisa nahi"
        plain_confidence = _confidence(loaded, ambiguous, "express_suicidal_thoughts")
        boosted_confidence = _confidence(boosted, ambiguous, "express_suicidal_thoughts")

        single = train(
            storage,
            Resource("single"),
            {},
            TrainingData([m for m in data.training_examples if m.get("intent") == "greet"]),
        )
        untrained = train(storage, Resource("empty"), {}, TrainingData([]))

        warnings: list = []
        handler = logging.Handler()
        handler.emit = lambda record: warnings.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger("bot.nlu.classifier").addHandler(handler)
        train(storage, Resource("typo"), {"intent_boost": {"express_suicidal_thought": 1.0}}, data)
        reloaded_empty = NgramIntentClassifier.load({}, storage, Resource("empty"), context())

        print(
            json.dumps(
                {
                    "files": files,
                    "model_file": MODEL_FILE,
                    "temperature": loaded._model["temperature"],
                    "queries": QUERIES,
                    "before": before,
                    "after": after,
                    "full_ranking": full,
                    "edge": edge,
                    "after_fallback": after_fallback,
                    "plain_confidence": plain_confidence,
                    "boosted_confidence": boosted_confidence,
                    "single": parse(single, ["namaste"]),
                    "untrained": parse(untrained, ["namaste"]),
                    "reloaded_empty": parse(reloaded_empty, ["namaste"]),
                    "required": NgramIntentClassifier.required_packages(),
                    "typo_warnings": warnings,
                },
                ensure_ascii=False,
            )
        )


def _normalised(texts: list) -> list:
    messages = [Message(data={"text": t}) for t in texts]
    return IndicNormaliser().process(messages)


def _confidence(component: NgramIntentClassifier, text: str, intent: str) -> float:
    ranking = component.rank([m.get("text") for m in _normalised([text])])[0]
    return next(r["confidence"] for r in ranking if r["name"] == intent)


if __name__ == "__main__":
    main()
