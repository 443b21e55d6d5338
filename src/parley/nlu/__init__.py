"""Natural-language understanding: a message in, intents and entity values out."""

from parley.nlu.base import Recognizer
from parley.nlu.examples import ExampleRecognizer
from parley.nlu.stub import StubRecognizer

__all__ = ["ExampleRecognizer", "Recognizer", "StubRecognizer"]
