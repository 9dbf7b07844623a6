"""A Rasa 3.6 intent classifier: a linear SVM on character and word n-grams.

Sahay's messages are short, misspelt and written in twelve languages and two scripts per
language; `bot.language.normalise` folds them onto one Latin spelling, and a linear model
over TF-IDF n-grams of that spelling is both more accurate and far faster to train than
DIET or Rasa's own LogisticRegressionClassifier on count features (see the architecture
notes, "Rasa 3.6 facts"). The component:

- featurises the normalised text with the union of sublinear TF-IDF character n-grams
  (``char_wb``, 1-5 by default), word n-grams (1-2, weighted 0.5) and character n-grams
  (2-4, weighted 0.7) of its consonant skeleton, fitted here rather than in Rasa
  featurizers, so the classifier needs no featurizer before it;
- fits a `LinearSVC` (one-vs-rest, squared hinge);
- turns its decision values into confidences with a softmax whose temperature is fitted
  on out-of-fold decision values (minimum negative log-likelihood), so that
  `FallbackClassifier`'s threshold reads as a probability;
- optionally adds a margin (`intent_boost`) to chosen intents' decision values before the
  softmax: the crisis intents get one, trading a little precision for recall;
- reports the `intent` and an `intent_ranking` of the top `ranking_length` intents.

Text is passed through `normalise` again (it is idempotent), so the component gives the
same answers with or without `IndicNormaliser` ahead of it. Texts starting with "/"
(intent payloads, which Rasa's RegexMessageHandler resolves) are neither trained on nor
classified: they get an empty prediction. Imports only the standard
library, numpy, scipy, scikit-learn, rasa and `bot.language`: it runs inside the engine.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import LinearSVC

from bot.language import normalise

logger = logging.getLogger(__name__)

MODEL_FILE = "ngram_intent_classifier.pkl"
FORMAT_VERSION = 1


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class NgramIntentClassifier(IntentClassifier, GraphComponent):
    """Linear SVM over TF-IDF character + word n-grams, with calibrated confidences."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Features (scikit-learn TfidfVectorizer, sublinear tf).
            "char_analyzer": "char_wb",  # or "char" (n-grams across word boundaries)
            "char_ngram_range": [1, 5],
            "word_ngram_range": [1, 2],
            "char_weight": 1.0,
            "word_weight": 0.5,  # 0 drops the word block
            # Character n-grams of the consonant skeleton (vowels dropped except at a
            # word's start), which bridges vowel spellings between a native word's
            # transliteration and how people romanise it ("jaganyaca"/"jagnyacha").
            "skeleton_ngram_range": [2, 4],
            "skeleton_weight": 0.7,  # 0 drops the skeleton block
            "min_df": 1,
            # LinearSVC's inverse regularisation strength.
            "C": 2.0,
            "max_iter": 5000,
            # Softmax temperature over decision values: fitted on out-of-fold decision
            # values with this many folds; `temperature` fixes it instead, and
            # `default_temperature` is used when the data is too small to fold.
            "calibration_folds": 3,
            "temperature": None,
            "default_temperature": 5.0,
            # {intent: margin} added to that intent's decision value before the softmax.
            "intent_boost": {},
            # How many intents `intent_ranking` lists (0 = all).
            "ranking_length": 10,
            "random_state": 42,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "scipy", "numpy"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when this module or the normalisation it calls changes.

        Rasa's training cache fingerprints only the class's own source; the helpers
        below it and `bot.language` shape the model too.
        """
        import bot.language

        digest = hashlib.sha256(Path(__file__).read_bytes())
        for path in sorted(Path(bot.language.__file__).parent.glob("*.py")):
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: dict[str, Any] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NgramIntentClassifier:
        return cls(config, model_storage, resource)

    # --- training ---------------------------------------------------------------------

    def _vectorizer(self) -> FeatureUnion:
        blocks = [
            (
                "char",
                TfidfVectorizer(
                    analyzer=self.config["char_analyzer"],
                    ngram_range=tuple(self.config["char_ngram_range"]),
                    sublinear_tf=True,
                    min_df=self.config["min_df"],
                    lowercase=True,
                    dtype=np.float32,
                ),
            )
        ]
        weights = {"char": float(self.config["char_weight"])}
        if self.config["word_weight"]:
            blocks.append(
                (
                    "word",
                    TfidfVectorizer(
                        analyzer="word",
                        ngram_range=tuple(self.config["word_ngram_range"]),
                        token_pattern=r"(?u)\b\w+\b",  # keep one-letter words ("i", "a")
                        sublinear_tf=True,
                        min_df=self.config["min_df"],
                        lowercase=True,
                        dtype=np.float32,
                    ),
                )
            )
            weights["word"] = float(self.config["word_weight"])
        if self.config["skeleton_weight"]:
            blocks.append(
                (
                    "skeleton",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=tuple(self.config["skeleton_ngram_range"]),
                        preprocessor=consonant_skeleton,
                        sublinear_tf=True,
                        min_df=self.config["min_df"],
                        dtype=np.float32,
                    ),
                )
            )
            weights["skeleton"] = float(self.config["skeleton_weight"])
        return FeatureUnion(blocks, transformer_weights=weights)

    def _svm(self) -> LinearSVC:
        return LinearSVC(
            C=float(self.config["C"]),
            max_iter=int(self.config["max_iter"]),
            random_state=self.config["random_state"],
        )

    def train(self, training_data: TrainingData) -> Resource:
        """Fit features, the SVM and the confidence temperature, then persist."""
        texts: list[str] = []
        labels: list[str] = []
        for example in training_data.intent_examples:
            text = _text_of(example)
            if text is not None and example.get(INTENT):
                texts.append(text)
                labels.append(example.get(INTENT))
        if not texts:
            logger.debug("No intent examples: %s is left untrained.", self.__class__.__name__)
            return self._resource

        encoder = LabelEncoder().fit(labels)
        y = encoder.transform(labels)
        classes = [str(c) for c in encoder.classes_]
        boost = np.array(
            [float(self.config["intent_boost"].get(c, 0.0)) for c in classes], dtype=np.float64
        )
        unknown = sorted(set(self.config["intent_boost"]) - set(classes))
        if unknown:  # a misspelt crisis intent here would silently drop its boost
            logger.warning("intent_boost names intents without training data: %s", unknown)
        model: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "classes": classes,
            "boost": boost,
            "vectorizer": None,
            "svm": None,
            "temperature": 1.0,
            "blank_columns": np.zeros(0, dtype=np.int64),
        }
        if len(classes) > 1:
            vectorizer = self._vectorizer()
            features = vectorizer.fit_transform(texts)
            svm = self._svm().fit(features, y)
            svm.coef_ = svm.coef_.astype(np.float32)  # halves the model; features are float32
            model.update(
                vectorizer=vectorizer,
                svm=svm,
                temperature=self._temperature(features, y, boost),
                blank_columns=_blank_columns(vectorizer),
            )
        self._model = model
        self.persist()
        return self._resource

    def _temperature(self, features: Any, y: np.ndarray, boost: np.ndarray) -> float:
        """Softmax temperature that best explains out-of-fold decision values."""
        if self.config["temperature"] is not None:
            return float(self.config["temperature"])
        smallest_class = int(np.bincount(y).min())
        folds = min(int(self.config["calibration_folds"]), smallest_class)
        if folds < 2:
            return float(self.config["default_temperature"])
        decisions = np.zeros((len(y), len(boost)))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.config["random_state"])
        # The vectorizer is shared across folds (only its idf sees the held-out fold);
        # n-grams unseen by a fold's SVM get no weight from it either way.
        for train_index, test_index in splitter.split(np.zeros(len(y)), y):
            svm = self._svm().fit(features[train_index], y[train_index])
            decisions[test_index] = _decisions(svm, features[test_index], len(boost))
        decisions += boost
        rows = np.arange(len(y))

        def negative_log_likelihood(log_t: float) -> float:
            return float(-log_softmax(np.exp(log_t) * decisions, axis=1)[rows, y].mean())

        best = minimize_scalar(negative_log_likelihood, bounds=(-3.0, 4.0), method="bounded")
        temperature = float(np.exp(best.x))
        logger.debug("Fitted confidence temperature %.3f on %d folds.", temperature, folds)
        return temperature

    # --- persistence ------------------------------------------------------------------

    def persist(self) -> None:
        with (
            self._model_storage.write_to(self._resource) as directory,
            open(directory / MODEL_FILE, "wb") as file,
        ):
            pickle.dump(self._model, file, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NgramIntentClassifier:
        """Load the pickled model (our own training output: trusted like the archive)."""
        try:
            with (
                model_storage.read_from(resource) as directory,
                open(directory / MODEL_FILE, "rb") as file,
            ):
                model = pickle.load(file)
        except (ValueError, FileNotFoundError):
            logger.debug("No trained %s in resource '%s'.", cls.__name__, resource.name)
            return cls.create(config, model_storage, resource, execution_context)
        if model.get("format") != FORMAT_VERSION:
            logger.warning("Unknown %s model format: retrain the model.", cls.__name__)
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, model)

    # --- inference --------------------------------------------------------------------

    def process(self, messages: list[Message]) -> list[Message]:
        """Set `intent` and `intent_ranking` on every message.

        Payloads ("/intent{...}"), empty text and text with no n-gram seen in training get
        no intent (name None, confidence 0), which FallbackClassifier turns into
        nlu_fallback; for a payload, Rasa's RegexMessageHandler at the end of the graph
        then puts the payload's own intent in its place. No message may be left without
        an `intent`: FallbackClassifier reads it unconditionally.
        """
        todo: list[Message] = []
        texts: list[str] = []
        for message in messages:
            text = _text_of(message)
            if text is not None and self._model is not None:
                todo.append(message)
                texts.append(text)
            elif message.get(INTENT) is None:
                self._set_prediction(message, [])
        if todo:
            for message, ranking in zip(todo, self.rank(texts), strict=True):
                self._set_prediction(message, ranking)
        return messages

    def _set_prediction(self, message: Message, ranking: list[dict[str, Any]]) -> None:
        intent = ranking[0] if ranking else {"name": None, "confidence": 0.0}
        length = int(self.config["ranking_length"])
        message.set(INTENT, intent, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, add_to_output=True
        )

    def rank(self, texts: Sequence[str]) -> list[list[dict[str, Any]]]:
        """Every intent with its confidence, best first, for each normalised text."""
        assert self._model is not None
        classes: list[str] = self._model["classes"]
        if self._model["svm"] is None:  # a single intent in the training data
            return [[{"name": classes[0], "confidence": 1.0}] if t else [] for t in texts]
        features = self._model["vectorizer"].transform(list(texts))
        decisions = _decisions(self._model["svm"], features, len(classes))
        probabilities = softmax(
            self._model["temperature"] * (decisions + self._model["boost"]), axis=1
        )
        # An n-gram of spaces alone (char_wb pads every word) says nothing.
        blank = self._model["blank_columns"]
        known = features.getnnz(axis=1) - features[:, blank].getnnz(axis=1) > 0
        rankings: list[list[dict[str, Any]]] = []
        for row, has_features in zip(probabilities, known, strict=True):
            if not has_features:  # empty, or no n-gram seen in training: confidence 0
                rankings.append([])
                continue
            order = np.argsort(-row, kind="stable")
            rankings.append([{"name": classes[i], "confidence": float(row[i])} for i in order])
        return rankings


def _text_of(message: Message) -> str | None:
    """The normalised text to classify, or None for payloads and non-text messages."""
    text = message.get(TEXT)
    if not isinstance(text, str) or text.startswith("/"):
        return None
    return normalise(text)


_INNER_VOWELS = re.compile(r"\B[aeiou]+")


def consonant_skeleton(text: str) -> str:
    """Drop vowels except at the start of a word: "jaganyaca kahi" -> "jgnyc kh"."""
    return _INNER_VOWELS.sub("", text)


def _blank_columns(union: FeatureUnion) -> np.ndarray:
    """Columns of the union's output whose n-gram is only spaces."""
    columns: list[int] = []
    offset = 0
    for _, vectorizer in union.transformer_list:
        vocabulary: dict[str, int] = vectorizer.vocabulary_
        columns.extend(offset + i for term, i in vocabulary.items() if not term.strip())
        offset += len(vocabulary)
    return np.array(sorted(columns), dtype=np.int64)


def _decisions(svm: LinearSVC, features: Any, n_classes: int) -> np.ndarray:
    """Decision values as an (n, n_classes) array, also for two classes."""
    decisions = svm.decision_function(features)
    if n_classes == 2:  # scikit-learn returns one column: the second class's margin
        decisions = np.column_stack([-decisions, decisions]) / 2.0
    return np.asarray(decisions, dtype=np.float64)
