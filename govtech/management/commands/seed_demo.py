"""Create (or bring up to date) the demo installation. Safe to run any number of times."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_scopes import scopes_disabled

from delivery.broadcasts.seed import attributes_demo_ensure
from delivery.disaster.seed import disaster_demo_ensure
from delivery.faq.seed import faq_demo_ensure
from delivery.services import line_channel_bind_simulator
from delivery.simulator_adapter import simulator_enabled
from delivery.spots.seed import spots_demo_ensure
from govtech.models import Department, Municipality, Role, User, Vendor
from govtech.services import department_create, municipality_create, staff_create, staff_set_roles
from govtech.tenancy import tenant_scope
from procedures.casework.demo import demo_casework_ensure
from procedures.catalog.services import template_import, template_publish
from procedures.catalog.starters import STARTER_VENDOR_SLUG, starter_documents, starter_metadata
from procedures.incidents.categories import (
    report_categories_standard_ensure,
    report_settings_default_ensure,
)
from procedures.models import Procedure
from procedures.reservations.seed import demo_resources_ensure
from procedures.services import procedure_publish
from reports.dashboards.aggregation import aggregates_compute, tokyo_today
from reports.surveys.demo import demo_surveys_ensure

# Which demo-city department handles each starter procedure.
STARTER_DEPARTMENTS = {
    "bulky-waste": "kankyo",
    "child-allowance-inquiry": "kosodate",
    "citizen-survey-2026": "kikaku",
    "disaster-damage-certificate": "kikaku",
    "dog-registration-change": "kankyo",
    "juminhyo-by-mail": "shimin",
    "public-comment": "kikaku",
    "registration-details": "shimin",
    "report-generic": "kankyo",
    "road-damage": "doro",
}

# Which demo-city department handles each standard report category.
REPORT_DEPARTMENTS = {
    "road": "doro",
    "park": "doro",
    "river": "doro",
    "dumping": "kankyo",
    "streetlight": "doro",
    "other": "kankyo",
}

DEMO_PASSWORD = "demo-pass-2026!"  # noqa: S105 - printed for the demo on purpose

MUNICIPALITIES = [
    {
        "slug": "demo-city",
        "name": "デモ市",
        "name_en": "Demo City",
        "prefecture": "神奈川県",
        "population": 132_000,
        "departments": [
            ("shimin", "市民課"),
            ("kankyo", "環境課"),
            ("doro", "道路管理課"),
            ("kosodate", "子育て支援課"),
            ("kikaku", "企画課"),
        ],
    },
    {
        "slug": "other-town",
        "name": "アザー町",
        "name_en": "Other Town",
        "prefecture": "山形県",
        "population": 18_500,
        "departments": [("jumin", "住民課")],
    },
]

STAFF = [
    ("demo-city", "admin@demo-city.example", "デモ市 管理者", [Role.ADMIN]),
    ("demo-city", "designer@demo-city.example", "デモ市 手続設計担当", [Role.DESIGNER]),
    ("demo-city", "reviewer@demo-city.example", "デモ市 審査担当", [Role.REVIEWER]),
    ("demo-city", "broadcaster@demo-city.example", "デモ市 配信担当", [Role.BROADCASTER]),
    ("other-town", "admin@other-town.example", "アザー町 管理者", [Role.ADMIN]),
    ("other-town", "designer@other-town.example", "アザー町 手続設計担当", [Role.DESIGNER]),
]


class Command(BaseCommand):
    help = "Create the demo municipalities, staff of each role, a vendor and an operator."

    @transaction.atomic
    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]  # 0: say nothing (make demo: rundemo says it)
        embedded_folders_ensure()  # the demo's notices are published to the queue on commit
        municipalities = {spec["slug"]: self._municipality(spec) for spec in MUNICIPALITIES}
        for slug, email, name, roles in STAFF:
            self._staff(municipalities[slug], email, name, roles)
        self._operator()
        self._vendor()
        # Resources first: publishing a starter with a reservation step needs its resource.
        self._reservation_resources(municipalities["demo-city"])
        # Attributes before procedures: the 登録情報の変更 starter's steps are bound to them.
        attributes_demo_ensure(municipality=municipalities["demo-city"])
        self._procedures(municipalities["demo-city"])
        self._line_channel(municipalities["demo-city"])
        self._report_categories(municipalities["demo-city"])
        self._casework(municipalities["demo-city"])
        self._surveys(municipalities["demo-city"])
        self._spots_and_faq(municipalities["demo-city"])
        self._dashboards(municipalities["demo-city"])
        self._print_logins()

    def _municipality(self, spec: dict) -> Municipality:
        municipality = Municipality.objects.filter(slug=spec["slug"]).first()
        if municipality is None:
            municipality = municipality_create(
                actor=None,
                name=spec["name"],
                slug=spec["slug"],
                prefecture=spec["prefecture"],
                population=spec["population"],
                name_en=spec["name_en"],
            )
        with tenant_scope(municipality):
            existing = set(Department.objects.values_list("code", flat=True))
        for code, name in spec["departments"]:
            if code not in existing:
                department_create(actor=None, municipality=municipality, name=name, code=code)
        return municipality

    def _staff(self, municipality: Municipality, email: str, name: str, roles: list[str]) -> None:
        user = User.objects.filter(email=email).first()
        if user is None:
            staff_create(
                actor=None,
                municipality=municipality,
                email=email,
                password=DEMO_PASSWORD,
                roles=roles,
                display_name=name,
            )
            return
        with scopes_disabled():
            current = set(user.memberships.values_list("role", flat=True))
        if current != set(roles):
            staff_set_roles(actor=None, municipality=municipality, user=user, roles=roles)

    def _procedures(self, municipality: Municipality) -> None:
        """Publish the starters to the catalog, then import them into demo-city through it.

        Importing through the catalog records provenance (template and version), so the
        demo shows "update available" when a starter changes. Procedures demo-city
        already has are kept as they are (later edits are not overwritten).
        """
        vendor = Vendor.objects.get(slug=STARTER_VENDOR_SLUG)
        with tenant_scope(municipality):
            existing = set(Procedure.objects.values_list("key", flat=True))
            departments = {d.code: d for d in Department.objects.all()}
        for document in starter_documents():
            version = template_publish(
                actor=None,
                publisher=vendor,
                document=document,
                metadata=starter_metadata(document),
                notes="Starter library",
            )
            if document["key"] in existing:
                continue
            department = departments.get(STARTER_DEPARTMENTS.get(document["key"], ""))
            procedure = template_import(
                actor=None, municipality=municipality, version=version, department=department
            )
            procedure_publish(actor=None, procedure=procedure, change_note="Starter library")
            self._say(f"published {document['key']}")

    def _reservation_resources(self, municipality: Municipality) -> None:
        """こどもひろば and the 市民課 counter, bookable in LINE (procedures: starters)."""
        for key in demo_resources_ensure(municipality=municipality):
            self._say(f"reservation resource {key}")

    def _report_categories(self, municipality: Municipality) -> None:
        """道路, 公園, 河川, 不法投棄, 街路灯, その他 with their report procedures, routed to
        the departments that handle them (once)."""
        with tenant_scope(municipality):
            departments = {d.code: d for d in Department.objects.all()}
            routed = {key: departments[code] for key, code in REPORT_DEPARTMENTS.items()}
            created = report_categories_standard_ensure(
                actor=None, municipality=municipality, departments=routed
            )
            report_settings_default_ensure(municipality=municipality, department=routed["other"])
        for category in created:
            self._say(f"report category {category.key}")

    def _casework(self, municipality: Municipality) -> None:
        """A reviewer's working day: residents' submissions in every state (once)."""
        staff = {
            "reviewer": User.objects.get(email="reviewer@demo-city.example"),
            "admin": User.objects.get(email="admin@demo-city.example"),
        }
        made = demo_casework_ensure(municipality=municipality, staff=staff)
        if made:
            self._say(f"{made} submissions in the reviewers' inbox")

    def _dashboards(self, municipality: Municipality) -> None:
        """The dashboards' aggregates of the last 30 days, so they show the seeded activity
        before the first nightly run (recomputing replaces the same rows)."""
        today = tokyo_today()
        aggregates_compute(municipality=municipality, first=today - timedelta(days=30), last=today)

    def _spots_and_faq(self, municipality: Municipality) -> None:
        """Facilities and evacuation sites to search, a sorting list and a few questions
        for the FAQ bot (once each)."""
        with tenant_scope(municipality):
            spots = spots_demo_ensure(municipality=municipality, actor=None)
            entries = faq_demo_ensure(municipality=municipality, actor=None)
            disaster_demo_ensure(municipality=municipality)
        if spots or entries:
            self._say(f"{spots} spots, {entries} FAQ entries")

    def _surveys(self, municipality: Municipality) -> None:
        """Residents of four areas answer the satisfaction survey and a public comment (once)."""
        made = demo_surveys_ensure(municipality=municipality)
        if made:
            self._say(f"{made} survey answers")

    def _line_channel(self, municipality: Municipality) -> None:
        """demo-city's LINE account lives in the local simulator, so make demo is chat-able."""
        if simulator_enabled():
            channel = line_channel_bind_simulator(
                actor=None,
                municipality=municipality,
                channel_id="2000000001",
                name="デモ市公式LINE",
            )
            self._say(f"LINE channel {channel.channel_id} → {channel.webhook_url}")

    def _operator(self) -> None:
        if not User.objects.filter(email="operator@govtech.example").exists():
            User.objects.create_superuser(email="operator@govtech.example", password=DEMO_PASSWORD)

    def _vendor(self) -> None:
        vendor, _ = Vendor.objects.get_or_create(
            slug="govtech-starter", defaults={"name": "govtech starter"}
        )
        user = User.objects.filter(email="vendor@starter.example").first()
        if user is None:
            user = User.objects.create_user(
                email="vendor@starter.example",
                password=DEMO_PASSWORD,
                display_name="テンプレート提供者",
            )
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        vendor.members.add(user)

    def _say(self, line: str) -> None:
        if self.verbosity > 0:
            self.stdout.write(line)

    def _print_logins(self) -> None:
        for line in demo_logins():
            self._say(line)


def embedded_folders_ensure() -> None:
    """The folders of the filesystem Celery transport and results: rundemo's processes
    need them, and so does seed_demo, whose notices are published as tasks on commit."""
    for folder in ("celery/queue", "celery/processed", "celery/results", "celery/control"):
        (settings.VAR_DIR / folder).mkdir(parents=True, exist_ok=True)


def demo_logins() -> list[str]:
    """The demo's logins as printed by seed_demo and, once it is up, by rundemo."""
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD})"]
    for slug, email, _name, roles in STAFF:
        note = "  (sets up MFA at first login)" if Role.ADMIN in roles else ""
        lines.append(f"  {slug:<11} {', '.join(roles):<12} {email}{note}")
    lines.append(
        "  operator    superuser    operator@govtech.example  (sets up MFA at first login)"
    )
    lines.append("  vendor      templates    vendor@starter.example")
    return lines
