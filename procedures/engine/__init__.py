"""The conversation engine: a pure state machine over `govtech.procedure.v1` documents.

Public API (the transport and services build on these names):

- inputs: TextInput, PostbackInput, LocationInput, ImageInput, FollowInput
- prompts: TextPrompt, Choice, DatePickerPrompt, LocationRequestPrompt,
  ImageRequestPrompt, ConfirmationPrompt, SummaryRow, EditFieldPrompt, CompletionPrompt,
  Card, CardsPrompt, ImagePrompt, prompt_from_dict
- machine: start, advance, correct, ask_again, offer_resume, completion_prompts,
  current_prompts
- conversation: ConversationState, Result, SubmitRequested, Cancelled, Ended, compute_fee
- steps: StepType, register, step_type, InvalidAnswer, StepNotAvailable, StepContext
"""

from procedures.engine.conversation import (
    STATUSES,
    Cancelled,
    ConversationState,
    Ended,
    Result,
    SubmitRequested,
    compute_fee,
)
from procedures.engine.inputs import (
    FollowInput,
    ImageInput,
    Input,
    LocationInput,
    PostbackInput,
    TextInput,
    input_from_dict,
    input_to_dict,
)
from procedures.engine.machine import (
    advance,
    ask_again,
    completion_prompts,
    correct,
    current_prompts,
    offer_resume,
    start,
)
from procedures.engine.prompts import (
    Card,
    CardsPrompt,
    Choice,
    CompletionPrompt,
    ConfirmationPrompt,
    DatePickerPrompt,
    EditFieldPrompt,
    ImagePrompt,
    ImageRequestPrompt,
    Link,
    LocationRequestPrompt,
    Prompt,
    SummaryRow,
    TextPrompt,
    prompt_from_dict,
)
from procedures.engine.steps import (
    InvalidAnswer,
    StepContext,
    StepNotAvailable,
    StepType,
    register,
    step_type,
)

__all__ = [
    "STATUSES",
    "Cancelled",
    "Card",
    "CardsPrompt",
    "Choice",
    "CompletionPrompt",
    "ConfirmationPrompt",
    "ConversationState",
    "DatePickerPrompt",
    "EditFieldPrompt",
    "Ended",
    "FollowInput",
    "ImageInput",
    "ImagePrompt",
    "ImageRequestPrompt",
    "Input",
    "InvalidAnswer",
    "Link",
    "LocationInput",
    "LocationRequestPrompt",
    "PostbackInput",
    "Prompt",
    "Result",
    "StepContext",
    "StepNotAvailable",
    "StepType",
    "SubmitRequested",
    "SummaryRow",
    "TextInput",
    "TextPrompt",
    "advance",
    "ask_again",
    "completion_prompts",
    "compute_fee",
    "correct",
    "current_prompts",
    "input_from_dict",
    "input_to_dict",
    "offer_resume",
    "prompt_from_dict",
    "register",
    "start",
    "step_type",
]
