"""Property tests: random valid procedures × random resident input never break the engine."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import event, given, settings
from hypothesis import strategies as st

from procedures import logic
from procedures.engine import (
    STATUSES,
    Cancelled,
    ConversationState,
    Ended,
    FollowInput,
    ImageInput,
    LocationInput,
    PostbackInput,
    SubmitRequested,
    TextInput,
    advance,
    offer_resume,
    prompt_from_dict,
    start,
)
from procedures.engine.prompts import ConfirmationPrompt, DatePickerPrompt
from procedures.format import validate_document
from tests.procedures.conftest import document

START = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
QUESTION_TYPES = ["text", "number", "email", "phone", "postal_code", "date", "time",
                  "yes_no", "image", "location", "consent", "choice", "multi_choice"]  # fmt: skip
VALIDATIONS = {
    "text": {"max_length": 5},
    "number": {"min": 0, "max": 5},
    "date": {"min_date": 0, "max_date": 30},
    "multi_choice": {"max": 2},
}
CONDITIONS = {
    "choice": lambda var: {"==": [var, "o0"]},
    "multi_choice": lambda var: {"in": ["o0", var]},
    "number": lambda var: {">": [var, 2]},
    "yes_no": lambda var: var,
    "consent": lambda var: var,
}
TYPED = ["はい", "いいえ", "1", "2", "３", "0", "99", "12月1日", "明日", "今日", "14:30", "午後2時",
         "090-1234-5678", "〒150-0002", "taro@example.jp", "選択肢0", "選択肢1", "1、2", "同意する",
         "やめる", "もどる", "はじめから", "ヘルプ", "スキップ", "送信", "修正", "再開する", "",
         "あ" * 300, "Done", "Back"]  # fmt: skip


STALE_POSTBACKS = ["gt|a|s0|o0", "gt|t|s1|o1", "gt|d|s2", "gt|c|submit|0", "gt|e|s0",
                   "gt|s|s0", "gt|r|resume", "gt|x|nothing", "gt|a|s0|o0|x"]  # fmt: skip


@st.composite
def question_step(draw, index, earlier):
    kind = draw(st.sampled_from(QUESTION_TYPES))
    step = {"id": f"s{index}", "type": kind, "prompt": {"ja": f"質問{index}"}}
    if kind in {"choice", "multi_choice"}:
        count = draw(st.integers(1, 4))
        step["options"] = [{"value": f"o{j}", "label": {"ja": f"選択肢{j}"}} for j in range(count)]
    if draw(st.booleans()):
        step["required"] = False
    if kind in VALIDATIONS and draw(st.booleans()):
        step["validation"] = VALIDATIONS[kind]
    condition = draw(condition_on(earlier))
    if condition is not None:
        step["when"] = condition
    return step


@st.composite
def condition_on(draw, earlier):
    if not earlier or not draw(st.booleans()):
        return None
    target = draw(st.sampled_from(earlier))
    var = {"var": target["id"]}
    return CONDITIONS.get(target["type"], lambda v: {"!!": v})(var)


@st.composite
def definitions(draw):
    steps = []
    for index in range(draw(st.integers(1, 6))):
        questions = [step for step in steps if step["type"] in QUESTION_TYPES]
        role = draw(st.sampled_from(["question"] * 5 + ["message", "end"]))
        if role == "question":
            steps.append(draw(question_step(index, questions)))
            continue
        step = {"id": f"s{index}", "type": role, "message": {"ja": f"お知らせ{index}"}}
        condition = draw(condition_on(questions))
        if condition is None and role == "end":
            condition = False  # an unconditional end would make the rest unreachable
        if condition is not None:
            step["when"] = condition
        steps.append(step)
    if draw(st.booleans()):
        steps.append({"id": "confirm", "type": "confirm"})
    extra = {}
    numbers = [step["id"] for step in steps if step["type"] == "number"]
    if numbers and draw(st.booleans()):
        extra["fee"] = {"*": [{"var": numbers[0]}, 300]}
    definition = document(*steps, **extra)
    assert validate_document(definition) == [], validate_document(definition)
    return definition


GOOD_ANSWERS = {
    "text": ["山田", "abc"], "number": ["1", "３", "5"], "email": ["taro@example.jp"],
    "phone": ["090-1234-5678"], "postal_code": ["〒150-0002"], "date": ["明日", "3月20日"],
    "time": ["14:30"], "yes_no": ["はい", "いいえ"], "consent": ["同意する"],
    "choice": ["1", "2", "選択肢0"], "multi_choice": ["1", "1、2", "2"],
}  # fmt: skip


def good_answer(definition, state):
    """Inputs the current question accepts (or most often does), so that runs get far."""
    step = next((s for s in definition["steps"] if s["id"] == state.step_id), None)
    if state.awaiting != "answer" or step is None:
        return st.sampled_from(["送信", "修正", "1", "2", "再開する"]).map(TextInput)
    media = {"image": ImageInput("uploads/x.jpg"), "location": LocationInput(35.6, 139.7)}
    if step["type"] in media:
        return st.just(media[step["type"]])
    return st.sampled_from(GOOD_ANSWERS[step["type"]]).map(TextInput)


def random_input(draw, prompts, definition, state):
    choices = []
    for prompt in prompts:
        choices += list(getattr(prompt, "choices", ()))
        if isinstance(prompt, ConfirmationPrompt):
            choices += [prompt.submit, prompt.edit]
        if isinstance(prompt, DatePickerPrompt):
            params = {"date": "2026-03-20"} if prompt.mode == "date" else {"time": "10:00"}
            choices.append(PostbackInput(prompt.data, params))
    options = [
        st.sampled_from(TYPED).map(TextInput),
        st.text(max_size=15).map(TextInput),
        st.just(ImageInput("uploads/x.jpg")),
        st.just(LocationInput(35.6, 139.7, "渋谷区")),
        st.just(FollowInput()),
        st.text(max_size=20).map(PostbackInput),
        st.sampled_from(STALE_POSTBACKS).map(PostbackInput),
    ]
    # Buttons that end or reset the conversation are still reachable by typing; tapping
    # them as often as the others would leave little of each run to explore.
    choices = [c for c in choices if c.data not in {"gt|x|cancel", "gt|x|restart", "gt|r|restart"}]
    if choices:
        tapped = st.sampled_from(choices).map(
            lambda c: c if isinstance(c, PostbackInput) else PostbackInput(c.data)
        )
        options = [tapped] * 4 + options
    steer = st.sampled_from(["もどる", "修正", "1"]).map(TextInput)
    return draw(st.one_of([good_answer(definition, state)] * len(options) + [steer] * 2 + options))


def check_result(definition, before, result):
    state = result.state
    assert state.status in STATUSES
    assert ConversationState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    for prompt in result.prompts:
        data = json.loads(json.dumps(prompt.to_dict()))
        assert prompt_from_dict(data) == prompt
    expected_status = {SubmitRequested: "submitted", Cancelled: "cancelled", Ended: "ended"}
    if result.outcome is not None:
        assert state.status == expected_status[type(result.outcome)]
    steps = {step["id"]: step for step in definition["steps"]}
    for step_id in state.answers:
        when = steps[step_id].get("when")
        assert when is None or logic.is_true(when, state.answers), "a stale answer was kept"
    if before is None or state.started_at != before.started_at:
        return  # a restart forgets answers on purpose
    for step_id, value in before.answers.items():
        if step_id == before.step_id or step_id in state.answers:
            continue  # the question being answered may be skipped or changed
        when = steps[step_id].get("when")
        assert when is not None and not logic.is_true(when, state.answers), (
            f"the answer to {step_id} ({value!r}) was lost"
        )


@settings(max_examples=200, deadline=None)
@given(definition=definitions(), data=st.data())
def test_the_engine_never_raises_loses_answers_or_breaks_its_state(definition, data):
    now = START
    result = start(definition, lang=data.draw(st.sampled_from(["ja", "en"])), now=now)
    check_result(definition, None, result)
    for _turn in range(data.draw(st.integers(1, 40))):
        event(f"status {result.state.status}")
        now += data.draw(st.sampled_from([timedelta(minutes=1)] * 150 + [timedelta(hours=25)]))
        before = result.state
        if data.draw(st.integers(0, 15)) == 0:
            result = offer_resume(definition, before, now=now)
        else:
            inp = random_input(data.draw, result.prompts, definition, before)
            result = advance(definition, before, inp, now=now)
        check_result(definition, before, result)


@settings(max_examples=50, deadline=None)
@given(definition=definitions())
def test_every_generated_postback_fits_in_line_limits(definition):
    result = start(definition, now=START)
    for prompt in result.prompts:
        for choice in getattr(prompt, "choices", ()):
            assert len(choice.data.encode()) <= 300


def drive(definition, result, data, now, turns=30):
    """Give good answers until the conversation stops asking questions."""
    for _turn in range(turns):
        if result.state.awaiting != "answer":
            break
        before = result.state
        inp = data.draw(good_answer(definition, before))
        if before.pending:  # a multi_choice selection in progress: finish it
            inp = PostbackInput(f"gt|d|{before.step_id}")
        result = advance(definition, before, inp, now=now)
        check_result(definition, before, result)
    return result


@settings(max_examples=200, deadline=None)
@given(definition=definitions(), data=st.data())
def test_editing_any_answer_from_the_summary_keeps_the_answers_consistent(definition, data):
    result = drive(definition, start(definition, now=START), data, START)
    for _edit in range(data.draw(st.integers(1, 3))):
        if result.state.status != "confirming":
            return
        before = result.state
        result = advance(definition, before, TextInput("修正"), now=START)
        check_result(definition, before, result)
        fields = [choice.data for choice in result.prompts[-1].choices]
        before = result.state
        result = advance(
            definition, before, PostbackInput(data.draw(st.sampled_from(fields))), now=START
        )
        check_result(definition, before, result)
        result = drive(definition, result, data, START)
    assert result.state.status in {"confirming", "ended", "submitted"}
