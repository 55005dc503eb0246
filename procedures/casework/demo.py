"""A reviewer's working day for the demo: residents' submissions over the last ten days,
worked as reviewers work them.

``demo_casework_ensure`` is called by ``seed_demo``. The residents send their answers
through ``procedures.runtime.resident_input`` (photos stored as ``ResidentUpload`` like a
transport stores them), so each submission is shaped exactly like a real one; reviewers
then act through ``procedures.casework.services``. The residents have no LINE identity:
what they are told waits in the outbox and ends "unreachable", nothing leaves the machine.

One batch per municipality: the residents' handles (``demo:…``) mark it.
"""

# ruff: noqa: E501 - CASES is a script of Japanese prose, one case per line where it fits

from __future__ import annotations

import io
import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from PIL import Image, ImageDraw, ImageFilter

from govtech.models import Municipality, User
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.casework import services, workflow
from procedures.casework.models import CorrectionRequest, CorrectionStatus, ProcedureWorkflow
from procedures.models import Conversation, Procedure, Submission
from procedures.residents.models import Resident
from procedures.residents.services import resident_for_handle
from procedures.runtime import resident_input, start_postback
from procedures.services import resident_upload_store

HANDLE_PREFIX = "demo:"
UPLOAD_NAMESPACE = uuid.UUID("5b0f8f0e-3d7c-4f4e-9a51-6c1d0c2e9b17")
# Around a city hall in the Kanagawa plain (デモ市 is fictional; the map needs a place).
CENTRE = (35.4887, 139.4075)

# handle → (display name as on LINE, language)
RESIDENTS = {
    "sato-hanako": ("佐藤 花子", "ja"),
    "suzuki-ichiro": ("鈴木 一郎", "ja"),
    "takahashi-misaki": ("高橋 美咲", "ja"),
    "tanaka-kenta": ("田中 健太", "ja"),
    "ito-sakura": ("伊藤 さくら", "ja"),
    "watanabe-daisuke": ("渡辺 大輔", "ja"),
    "yamamoto-yumi": ("山本 由美", "ja"),
    "nakamura-sho": ("中村 翔", "ja"),
    "kobayashi-keiko": ("小林 恵子", "ja"),
    "emily-clark": ("Emily Clark", "en"),
}

# How each procedure is worked in the demo: target days make late ones overdue.
WORKFLOWS = {"road-damage": 3, "juminhyo-by-mail": 5, "bulky-waste": 7}

WORDS = {
    "ja": {
        "SUBMIT": "送信",
        "SKIP": "スキップ",
        "YES": "はい",
        "NO": "いいえ",
        "AGREE": "同意する",
    },
    "en": {"SUBMIT": "submit", "SKIP": "skip", "YES": "yes", "NO": "no", "AGREE": "agree"},
}


@dataclass(frozen=True)
class Photo:
    """A photo the resident takes at that point (a road with a pothole; dark at night)."""

    dark: bool = False


@dataclass(frozen=True)
class Place:
    """A shared location, ``north``/``east`` metres from the centre."""

    north: float
    east: float
    address: str

    def as_input(self) -> engine.LocationInput:
        latitude = CENTRE[0] + self.north / 111_000
        longitude = CENTRE[1] + self.east / 91_000  # metres per degree at 35.5°N
        return engine.LocationInput(round(latitude, 6), round(longitude, 6), self.address)


Answer = str | Photo | Place


@dataclass(frozen=True)
class Act:
    """What someone does ``after`` hours past the submission.

    ``verb``: take (the demo reviewer assigns it to themself), assign (to ``who``),
    review, accept, complete, reject, return (``fields`` by ``days``), correct (the
    resident sends ``answers`` again), note, message, reply (the resident), withdraw.
    """

    verb: str
    after: float
    text: str = ""
    who: str = "reviewer"
    fields: tuple[str, ...] = ()
    days: float = 14
    answers: dict[str, Answer] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    resident: str
    procedure: str
    answers: tuple[Answer, ...]
    hours_ago: float
    acts: tuple[Act, ...] = ()


def _road(kind: str, place: Place, *, photo: Photo | None = None, phone: str = "") -> tuple:
    """Road damage: the kind (option number), place, photo, not dangerous, contact?"""
    detail = ("側溝の蓋が割れて、歩くと沈みます",) if kind == "6" else ()
    contact = ("YES", phone) if phone else ("NO",)
    return (kind, *detail, place, photo or Photo(), "NO", *contact, "SUBMIT")


def _bulky(items: str, count: str, in_days: int, address: str, phone: str) -> tuple:
    return (items, count, f"+{in_days}", address, phone, "SUBMIT")


def _dog(change: str, owner: str, dog: str, tag: str, extra: Sequence[str], phone: str) -> tuple:
    return (change, owner, dog, tag, *extra, phone, "SKIP", "SUBMIT")


def _juminhyo(name: str, born: str, copies: str, postal: str, address: str, phone: str):
    return ("AGREE", name, born, "1", "1", copies, postal, address, phone, "SKIP", "SUBMIT")


def _allowance(name: str, children: str, born: str, question: str, phone: str) -> tuple:
    return ("1", name, children, born, question, "1", phone, "SUBMIT")


HOME = Place(40, -60, "デモ市中央一丁目 市役所前交差点")
CASES: tuple[Case, ...] = (
    # 新着: nobody has looked at these yet.
    Case("sato-hanako", "road-damage", _road("1", Place(320, 410, "デモ市栄町二丁目 栄町通り")), 2),
    Case("suzuki-ichiro", "road-damage", _road("1", Place(-540, 220, "デモ市緑ケ丘三丁目 緑ケ丘小学校東側")), 5),
    Case("emily-clark", "road-damage", _road("1", Place(150, -380, "1-4 Sakuradai, Demo City"), phone="08011112222"), 20),
    Case("suzuki-ichiro", "bulky-waste", _bulky("1", "1", 9, "デモ市栄町一丁目3-12", "09023456789"), 3),
    Case("takahashi-misaki", "bulky-waste", _bulky("1, 2", "2", 10, "デモ市緑ケ丘二丁目8-1 グリーンハイツ203", "08034567890"), 10),
    Case("watanabe-daisuke", "dog-registration-change", _dog("1", "渡辺 大輔", "コタロウ", "R4-0815", ["デモ市桜台四丁目2-7"], "09045678901"), 8),
    Case("suzuki-ichiro", "juminhyo-by-mail", _juminhyo("鈴木 一郎", "1979-06-15", "2", "252-0001", "デモ市栄町一丁目3-12", "09023456789"), 16),
    Case("nakamura-sho", "child-allowance-inquiry", _allowance("中村 翔", "2", "2021-03-09", "現況届は今年も提出が必要でしょうか。", "08056789012"), 30),
    # 自分の担当: the demo reviewer took them, not started yet.
    Case("takahashi-misaki", "road-damage", _road("2", Place(-120, 760, "デモ市桜台一丁目 桜台交差点"), phone="08034567890"), 30,
         (Act("take", 1), Act("note", 1.2, "ガードレールの支柱が曲がっているとのこと。現地確認の日程を調整します。"))),
    Case("ito-sakura", "bulky-waste", _bulky("3", "1", 8, "デモ市中央三丁目5-5", "09067890123"), 26, (Act("take", 3),)),
    # 審査中 (one past the procedure's target days: overdue).
    Case("tanaka-kenta", "road-damage", _road("1", Place(610, -150, "デモ市北町二丁目 北町公民館前"), phone="09078901234"), 100,
         (Act("take", 2), Act("review", 2.5), Act("note", 3, "道路維持班に現地確認を依頼済み（11/24 回答予定）。"))),
    Case("sato-hanako", "road-damage", _road("6", Place(-300, -520, "デモ市南町一丁目 南町バス停付近"), phone="09089012345"), 60,
         (Act("take", 1), Act("review", 1.5),
          Act("message", 2, "ご連絡ありがとうございます。割れている蓋はバス停から見て道路のどちら側でしょうか。"),
          Act("reply", 5, "バス停の向かい側、コンビニの前です。"))),
    Case("suzuki-ichiro", "road-damage", _road("5", Place(820, 300, "デモ市北町四丁目 北町中央公園"), phone="09023456789"), 80,
         (Act("assign", 4, who="admin"), Act("review", 5, who="admin"))),
    Case("ito-sakura", "juminhyo-by-mail", _juminhyo("伊藤 さくら", "1990-11-02", "1", "252-0003", "デモ市中央三丁目5-5", "09067890123"), 45,
         (Act("take", 1), Act("review", 1.2))),
    Case("kobayashi-keiko", "child-allowance-inquiry", _allowance("小林 恵子", "1", "2023-08-20", "振込先の口座を変更したいのですが、手続きを教えてください。", "09090123456"), 75,
         (Act("take", 2), Act("review", 2.2),
          Act("message", 3, "口座変更には「受給事由消滅届」ではなく「口座変更届」が必要です。郵送でお送りしてよろしいですか。"),
          Act("reply", 20, "はい、郵送でお願いします。"))),
    # 返戻: waiting for the resident (one past its deadline), and one they corrected.
    Case("ito-sakura", "road-damage", _road("1", Place(-80, 260, "デモ市中央二丁目 中央通り"), photo=Photo(dark=True)), 190,
         (Act("take", 18), Act("return", 20, "写真が暗く、穴の位置と大きさが分かりません。明るい時間に撮った写真をお送りください。", fields=("photo",), days=3),)),
    Case("watanabe-daisuke", "road-damage", _road("1", Place(450, -640, "デモ市桜台三丁目 桜台中学校北側"), photo=Photo(dark=True), phone="09045678901"), 150,
         (Act("take", 4),
          Act("return", 6, "写真が暗くて損傷が確認できません。明るい時間に撮り直した写真をお願いします。", fields=("photo",), days=7),
          Act("correct", 30, answers={"photo": Photo()}),
          Act("note", 32, "差し替えの写真で損傷を確認。補修の優先度：中。"))),
    Case("kobayashi-keiko", "dog-registration-change", _dog("2", "小林 恵子", "モモ", "H30-2231", ["デモ市緑ケ丘一丁目4-9", "小林"], "09090123456"), 140,
         (Act("take", 3), Act("return", 4, "新しい所有者の方の氏名をフルネームでご記入ください。", fields=("new_owner",), days=14))),
    Case("takahashi-misaki", "juminhyo-by-mail", _juminhyo("高橋 美咲", "1988-02-29", "1", "252-0002", "デモ市緑ケ丘二丁目", "08034567890"), 130,
         (Act("take", 5), Act("return", 6, "送付先の住所に番地と建物名・部屋番号までご記入ください。", fields=("address",), days=7))),
    # 承認, then 完了.
    Case("tanaka-kenta", "bulky-waste", _bulky("2, 3", "2", 12, "デモ市北町二丁目6-3", "09078901234"), 40,
         (Act("take", 2), Act("accept", 2.5))),
    Case("nakamura-sho", "dog-registration-change", _dog("3", "中村 翔", "ハナ", "R1-0412", ["-20"], "08056789012"), 50,
         (Act("take", 1), Act("review", 1.5), Act("accept", 3))),
    Case("yamamoto-yumi", "road-damage", _road("3", Place(-650, -90, "デモ市南町三丁目 南町三丁目公園入口"), phone="09011223344"), 200,
         (Act("take", 2), Act("review", 3), Act("note", 70, "街路灯の球を交換済み（業者報告書あり）。"), Act("complete", 72))),
    Case("kobayashi-keiko", "road-damage", _road("1", Place(200, 120, "デモ市栄町一丁目 栄町商店街入口")), 230,
         (Act("take", 1), Act("review", 2), Act("complete", 50))),
    Case("emily-clark", "bulky-waste", _bulky("4", "1", 7, "2-11 Sakuradai, Demo City, Room 305", "08011112222"), 120,
         (Act("take", 2), Act("accept", 3), Act("complete", 70))),
    Case("tanaka-kenta", "juminhyo-by-mail", _juminhyo("田中 健太", "1975-09-30", "3", "252-0004", "デモ市北町二丁目6-3", "09078901234"), 210,
         (Act("take", 1), Act("review", 1.5), Act("accept", 2),
          Act("message", 20, "本日、住民票の写し3通を普通郵便で発送しました。2〜3日でお手元に届きます。"),
          Act("complete", 20.5))),
    Case("watanabe-daisuke", "child-allowance-inquiry", _allowance("渡辺 大輔", "3", "2022-12-01", "第3子の手当額を教えてください。", "09045678901"), 110,
         (Act("take", 3), Act("review", 3.5), Act("accept", 8), Act("complete", 9))),
    # 却下.
    Case("nakamura-sho", "road-damage", _road("4", Place(-420, 880, "デモ市桜台五丁目 私道入口")), 170,
         (Act("take", 5), Act("review", 6),
          Act("reject", 26, "私有地内のカーブミラーのため、市では修理できません。所有者の方にご相談ください。"))),
    Case("yamamoto-yumi", "juminhyo-by-mail", _juminhyo("山本 由美", "1968-04-12", "1", "252-0001", "デモ市栄町三丁目", "09011223344"), 180,
         (Act("take", 2), Act("reject", 4, "ご本人の確認ができる書類の写しが届いていません。お手数ですが再度お申し込みください。"))),
    # 取下げ by the resident.
    Case("yamamoto-yumi", "bulky-waste", _bulky("1", "1", 14, "デモ市栄町三丁目2-2", "09011223344"), 70, (Act("withdraw", 6),)),
    Case("sato-hanako", "dog-registration-change", _dog("4", "佐藤 花子", "チョコ", "R2-1130", ["東京都八王子市"], "09089012345"), 90,
         (Act("take", 4), Act("withdraw", 10))),
)  # fmt: skip


@dataclass
class _Day:
    """The seed's context: the municipality, who reviews, what time it is now."""

    municipality: Municipality
    staff: dict[str, User]
    now: datetime
    photos: int = 0

    def resident(self, handle: str) -> Resident:
        name, language = RESIDENTS[handle]
        return resident_for_handle(
            municipality=self.municipality,
            handle=HANDLE_PREFIX + handle,
            language=language,
            display_name=name,
        )


def demo_casework_ensure(*, municipality: Municipality, staff: dict[str, User]) -> int:
    """Fill ``municipality``'s inbox with ``CASES`` once; how many submissions were made
    (0 when the batch exists). ``staff``: "reviewer" (the demo's) and "admin" (a colleague).

    Raises AssertionError when a scripted conversation does not end in a submission (a
    starter changed under the script): the demo must not start half seeded.
    """
    with tenant_scope(municipality):
        if Resident.objects.filter(handle__startswith=HANDLE_PREFIX).exists():
            return 0
        _workflows_ensure()
    day = _Day(municipality, staff, timezone.now())
    for number, case in enumerate(CASES):
        _play(day, number, case)
    return len(CASES)


def _workflows_ensure() -> None:
    # No service edits workflows yet (the console's workflow form will): the seed writes
    # the demo's target days directly, before any submission, so due dates follow them.
    for procedure in Procedure.objects.filter(key__in=WORKFLOWS):
        ProcedureWorkflow.objects.get_or_create(
            municipality_id=procedure.municipality_id,
            procedure=procedure,
            defaults={"target_days": WORKFLOWS[procedure.key]},
        )


def _play(day: _Day, number: int, case: Case) -> None:
    at = day.now - timedelta(hours=case.hours_ago)
    resident = day.resident(case.resident)
    submission = _submit(day, resident, case, at, number)
    for act in case.acts:
        when = min(at + timedelta(hours=act.after), day.now - timedelta(minutes=5))
        with tenant_scope(day.municipality):
            ACTS[act.verb](day, submission, act, when)


def _submit(day: _Day, resident: Resident, case: Case, at: datetime, number: int) -> Submission:
    """The resident answers ``case.answers`` in a LINE conversation at ``at``."""
    lang = resident.language
    inputs = [engine.PostbackInput(start_postback(case.procedure))]
    inputs += [_input(day, resident, answer, at, lang) for answer in case.answers]
    reply = None
    for inp in inputs:
        reply = resident_input(
            municipality=day.municipality,
            resident=resident,
            inp=inp,
            lang=lang,
            now=at,
            channel="line",
        )
    submission = reply.submission if reply else None
    assert submission is not None, f"demo case {number} ({case.procedure}) did not submit"  # noqa: S101
    # submitted_at is auto_now_add: the clock the runtime was given does not reach it.
    with tenant_scope(day.municipality):
        Submission.objects.filter(pk=submission.pk).update(submitted_at=at)
    submission.submitted_at = at
    return submission


def _input(day: _Day, resident: Resident, answer: Answer, at: datetime, lang: str):
    if isinstance(answer, Place):
        return answer.as_input()
    if isinstance(answer, Photo):
        return engine.ImageInput(ref=str(_photo_store(day, resident, answer)))
    if answer.startswith("+"):  # a date so many days after the submission
        return engine.TextInput((timezone.localdate(at) + timedelta(days=int(answer))).isoformat())
    if answer.startswith("-") and answer[1:].isdigit():
        return engine.TextInput(
            (timezone.localdate(at) - timedelta(days=int(answer[1:]))).isoformat()
        )
    return engine.TextInput(WORDS[lang].get(answer, answer))


def _photo_store(day: _Day, resident: Resident, photo: Photo) -> uuid.UUID:
    """Store a photo as the LINE transport does (checked, cleaned JPEG); its id."""
    day.photos += 1
    upload_id = uuid.uuid5(UPLOAD_NAMESPACE, f"{resident.handle}:{day.photos}")
    content = road_photo(seed=day.photos, dark=photo.dark)
    resident_upload_store(
        upload_id=upload_id,
        municipality=day.municipality,
        resident=resident,
        content=content,
        content_type="image/jpeg",
        width=640,
        height=480,
        extension=".jpg",
    )
    return upload_id


# --- what reviewers and residents do ------------------------------------------------------


def _take(day: _Day, submission: Submission, act: Act, when: datetime) -> None:
    reviewer = day.staff["reviewer"]
    services.case_assign(actor=reviewer, submission=submission, assignee=reviewer, now=when)


def _assign(day: _Day, submission: Submission, act: Act, when: datetime) -> None:
    services.case_assign(
        actor=day.staff["reviewer"], submission=submission, assignee=day.staff[act.who], now=when
    )


def _to(status: str) -> Callable[[_Day, Submission, Act, datetime], None]:
    def move(day: _Day, submission: Submission, act: Act, when: datetime) -> None:
        services.case_transition(
            actor=day.staff[act.who], submission=submission, to=status, reason=act.text, now=when
        )

    return move


def _return(day: _Day, submission: Submission, act: Act, when: datetime) -> None:
    services.case_request_correction(
        actor=day.staff[act.who],
        submission=submission,
        fields=act.fields,
        reason=act.text,
        deadline=when + timedelta(days=act.days),
        now=when,
    )


def _correct(day: _Day, submission: Submission, act: Act, when: datetime) -> None:
    """The resident answers the open request. Until the correction conversation is in
    the runtime, its result goes to the service as the conversation would hand it over."""
    request = CorrectionRequest.objects.get(submission=submission, status=CorrectionStatus.OPEN)
    resident = submission.resident
    answers = dict(submission.answers)
    for step_id, answer in act.answers.items():
        answers[step_id] = _answer_value(day, resident, answer)
    conversation = Conversation(
        municipality=day.municipality,
        resident=resident,
        procedure=submission.procedure,
        version=submission.version,
        correcting=request,
    )
    services.case_resubmit(conversation=conversation, answers=answers, fee=submission.fee, now=when)


def _answer_value(day: _Day, resident: Resident, answer: Answer) -> object:
    if isinstance(answer, Photo):
        return {"ref": str(_photo_store(day, resident, answer)), "content_type": "image/jpeg"}
    return answer


def _note(day: _Day, submission: Submission, act: Act, when: datetime) -> None:
    services.case_note(actor=day.staff[act.who], submission=submission, text=act.text, now=when)


def _message(day: _Day, submission: Submission, act: Act, when: datetime) -> None:
    services.case_message(actor=day.staff[act.who], submission=submission, text=act.text, now=when)


def _reply(day: _Day, submission: Submission, act: Act, when: datetime) -> None:
    services.case_reply_receive(submission=submission, text=act.text, now=when)


def _withdraw(day: _Day, submission: Submission, act: Act, when: datetime) -> None:
    services.case_withdraw(resident=submission.resident, submission=submission, now=when)


ACTS: dict[str, Callable[[_Day, Submission, Act, datetime], None]] = {
    "take": _take,
    "assign": _assign,
    "review": _to(workflow.IN_REVIEW),
    "accept": _to(workflow.ACCEPTED),
    "complete": _to(workflow.COMPLETED),
    "reject": _to(workflow.REJECTED),
    "return": _return,
    "correct": _correct,
    "note": _note,
    "message": _message,
    "reply": _reply,
    "withdraw": _withdraw,
}


# --- photos ---------------------------------------------------------------------------------


def road_photo(*, seed: int, dark: bool = False, size: tuple[int, int] = (640, 480)) -> bytes:
    """A small JPEG of asphalt with a lane line and a dark pothole, different per ``seed``
    (a phone photo's shape, not its detail); ``dark``: taken at night, hard to make out."""
    rng = random.Random(seed)  # noqa: S311 - a picture's shapes, not a secret
    width, height = size
    grey = rng.randint(95, 125)
    image = Image.new("RGB", size, (grey, grey, grey + 4))
    draw = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.18, 0.3))
    draw.rectangle((0, 0, width, horizon), fill=(168, 192, 214))  # sky
    draw.polygon([(0, horizon), (width * 0.3, horizon), (0, height * 0.7)], fill=(86, 120, 70))
    line_x = width * rng.uniform(0.45, 0.6)
    for top in range(horizon + 10, height, 60):  # a dashed centre line in perspective
        spread = (top - horizon) / (height - horizon)
        draw.line(
            [(line_x, top), (line_x + 30 * spread, top + 30)],
            fill=(225, 222, 205),
            width=max(2, int(12 * spread)),
        )
    _pothole(draw, rng, width, height, horizon)
    noise = Image.effect_noise(size, rng.uniform(18, 30)).convert("RGB")
    image = Image.blend(image, noise, 0.18).filter(ImageFilter.GaussianBlur(0.7))
    if dark:
        image = image.point(lambda value: value // 5)
    output = io.BytesIO()
    image.save(output, "JPEG", quality=80)
    return output.getvalue()


def _pothole(draw: ImageDraw.ImageDraw, rng: random.Random, width, height, horizon) -> None:
    centre_x = width * rng.uniform(0.25, 0.75)
    centre_y = horizon + (height - horizon) * rng.uniform(0.45, 0.8)
    radius_x, radius_y = rng.uniform(50, 110), rng.uniform(22, 45)
    points = []
    for step in range(18):
        angle = step / 18 * math.tau
        wobble = rng.uniform(0.85, 1.12)
        points.append(
            (
                centre_x + radius_x * wobble * math.cos(angle),
                centre_y + radius_y * wobble * math.sin(angle),
            )
        )
    draw.polygon(points, fill=(58, 55, 52), outline=(140, 136, 128))
    inner = [(centre_x + (x - centre_x) * 0.6, centre_y + (y - centre_y) * 0.6) for x, y in points]
    draw.polygon(inner, fill=(34, 33, 31))
