"""A Rasa 3.6 graph component that folds every Indic script onto one Latin form.

Placed before the tokenizer, it replaces each message's text with
`bot.language.normalise(text)`, so "मुझे मदद चाहिए" and "mujhe madad chahiye" share
character n-grams. The original text stays on the message under `ORIGINAL_TEXT`; entity
annotations, lookup tables and synonyms in the training data are carried over to the
normalised form so that the regex featurizer and extractor see the same spelling as the
classifier. Intent payloads ("/choose_language{...}") are left untouched.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language import normalise

ORIGINAL_TEXT = "sahay_original_text"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class IndicNormaliser(GraphComponent):
    """Replace message text with its normalised Latin form before tokenisation."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IndicNormaliser:
        return cls()

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @staticmethod
    def required_packages() -> list[str]:
        # Listed so that Rasa's training cache notices a new transliteration release.
        return ["indic_transliteration"]

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise every example, lookup table and synonym of the training data."""
        for message in training_data.training_examples:
            normalise_message(message)
        for table in training_data.lookup_tables:
            elements = table.get("elements")
            if isinstance(elements, list):
                table["elements"] = _with_normalised(elements)
        synonyms = dict(training_data.entity_synonyms)
        for original, value in list(synonyms.items()):
            synonyms.setdefault(normalise(original), value)
        training_data.entity_synonyms = synonyms
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Normalise incoming messages in place."""
        for message in messages:
            normalise_message(message)
        return messages


def normalise_message(message: Message) -> None:
    """Normalise one message's text once, and move its entity spans along."""
    text = message.get(TEXT)
    if not isinstance(text, str) or message.get(ORIGINAL_TEXT) is not None:
        return
    folded = normalise(text)
    message.set(ORIGINAL_TEXT, text)
    message.set(TEXT, folded)
    entities = message.get(ENTITIES)
    if entities:
        message.set(ENTITIES, _move_entities(text, folded, entities), add_to_output=True)


def _move_entities(
    original: str, folded: str, entities: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    moved = []
    search_from = 0
    for entity in sorted(entities, key=lambda e: e.get("start", 0)):
        span = normalise(original[entity["start"] : entity["end"]])
        position = folded.find(span, search_from) if span else -1
        if position < 0:
            continue  # the span dissolved in normalisation; the intent still trains
        moved.append({**entity, "start": position, "end": position + len(span)})
        search_from = position + len(span)
    return moved


def _with_normalised(elements: list[Any]) -> list[Any]:
    seen = set(elements)
    result = list(elements)
    for element in elements:
        if isinstance(element, str):
            folded = normalise(element)
            if folded and folded not in seen:
                seen.add(folded)
                result.append(folded)
    return result
