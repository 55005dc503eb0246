"""The catalog API (DRF, session auth): list, detail, import. One view per operation.

Who may call: designers and admins of a municipality, vendor members and operators may
list and read the templates they can see; only designers and admins import (into their
own municipality). A template that is not visible is a 404, like a missing one.
"""

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from govtech.access import staff_context
from govtech.models import Department
from govtech.services import ServiceError
from procedures.catalog.models import Template, TemplateVersion
from procedures.catalog.selectors import (
    CatalogViewer,
    catalog_search,
    catalog_viewer,
    template_for,
    template_versions,
)
from procedures.catalog.services import template_import
from procedures.models import Procedure
from procedures.selectors import unbound_steps
from procedures.services import DocumentRejected


def _viewer(request: Request) -> CatalogViewer:
    return catalog_viewer(user=request.user, staff=staff_context(request._request))


class MayBrowseCatalog(BasePermission):
    """Designers and admins of a municipality, vendor members, operators."""

    def has_permission(self, request, view) -> bool:
        return _viewer(request).may_browse


class MayImportTemplates(BasePermission):
    """Designers and admins of a municipality (they import into it)."""

    def has_permission(self, request, view) -> bool:
        return _viewer(request).may_import


def _visible_template(request: Request, pk: int) -> Template:
    template = template_for(viewer=_viewer(request), pk=pk)
    if template is None:
        raise Http404
    return template


# --- serializers ------------------------------------------------------------------------


class PublisherSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["vendor", "municipality"])
    slug = serializers.CharField()
    name = serializers.CharField()


class TemplateListQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, default="", help_text="Words in title, summary, tags."
    )
    category = serializers.CharField(required=False, default="")
    publisher = serializers.RegexField(
        r"^(vendor|municipality):[a-z0-9-]+$",
        required=False,
        default="",
        help_text="vendor:<slug> or municipality:<slug>",
    )


class TemplateSummarySerializer(serializers.ModelSerializer):
    """A catalog entry as listed."""

    tags = serializers.ListField(child=serializers.CharField(), source="tag_list")
    publisher = serializers.SerializerMethodField()
    latest_version = serializers.IntegerField(source="latest_number", allow_null=True)
    usage = serializers.IntegerField(help_text="How many municipalities imported it.")

    class Meta:
        model = Template
        fields = [
            "id",
            "key",
            "title",
            "summary",
            "category",
            "tags",
            "licence",
            "visibility",
            "publisher",
            "latest_version",
            "usage",
        ]

    @extend_schema_field(PublisherSerializer)
    def get_publisher(self, template: Template) -> dict[str, str]:
        owner = template.publisher_vendor or template.publisher_municipality
        kind = "vendor" if template.publisher_vendor_id else "municipality"
        return {"type": kind, "slug": owner.slug, "name": owner.name}


class TemplateVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateVersion
        fields = ["number", "published_at", "notes"]


class TemplateDetailSerializer(TemplateSummarySerializer):
    """A catalog entry with every version and the latest version's document."""

    versions = serializers.SerializerMethodField()
    document = serializers.SerializerMethodField(
        help_text="The latest version's govtech.procedure.v1 document (with placeholders)."
    )

    class Meta(TemplateSummarySerializer.Meta):
        fields = [*TemplateSummarySerializer.Meta.fields, "versions", "document"]

    @extend_schema_field(TemplateVersionSerializer(many=True))
    def get_versions(self, template: Template) -> list[dict[str, Any]]:
        return TemplateVersionSerializer(self.context["versions"], many=True).data

    @extend_schema_field(serializers.JSONField())
    def get_document(self, template: Template) -> dict[str, Any]:
        return self.context["versions"][0].document


class ImportInputSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="Template version; the latest when omitted."
    )
    department = serializers.SlugField(
        required=False, help_text="Code of one of your municipality's departments."
    )
    key = serializers.SlugField(
        required=False, max_length=80, help_text="Procedure key when the template's is taken."
    )


class FormatErrorSerializer(serializers.Serializer):
    path = serializers.CharField()
    step_id = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class ImportedProcedureSerializer(serializers.ModelSerializer):
    """The draft procedure an import created, with its provenance."""

    title = serializers.CharField()
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    template = serializers.IntegerField(source="source_template_version.template_id")
    template_version = serializers.IntegerField(source="source_template_version.number")
    to_fill_in = serializers.SerializerMethodField(
        help_text="Reservation steps that book no active resource of your municipality yet "
        "(the template's keys are its publisher's): choose one before publishing."
    )

    class Meta:
        model = Procedure
        fields = [
            "id",
            "key",
            "title",
            "department",
            "draft_revision",
            "template",
            "template_version",
            "to_fill_in",
        ]

    @extend_schema_field(FormatErrorSerializer(many=True))
    def get_to_fill_in(self, procedure: Procedure) -> list[dict[str, Any]]:
        steps = unbound_steps(document=procedure.draft, municipality=procedure.municipality)
        return FormatErrorSerializer(steps, many=True).data


class ImportErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = FormatErrorSerializer(many=True, required=False)


# --- views ------------------------------------------------------------------------------


class CatalogTemplateListView(APIView):
    permission_classes = [MayBrowseCatalog]

    @extend_schema(
        operation_id="catalog_templates_list",
        parameters=[TemplateListQuerySerializer],
        responses=TemplateSummarySerializer(many=True),
        tags=["catalog"],
    )
    def get(self, request: Request) -> Response:
        """Templates the caller may see, filtered by words, category and publisher."""
        query = TemplateListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        templates = catalog_search(
            viewer=_viewer(request),
            query=query.validated_data["q"],
            category=query.validated_data["category"],
            publisher=query.validated_data["publisher"],
        )
        return Response(TemplateSummarySerializer(templates, many=True).data)


class CatalogTemplateDetailView(APIView):
    permission_classes = [MayBrowseCatalog]

    @extend_schema(
        operation_id="catalog_templates_retrieve",
        responses=TemplateDetailSerializer,
        tags=["catalog"],
    )
    def get(self, request: Request, pk: int) -> Response:
        """One template with its versions; 404 when it is missing or not visible."""
        template = _visible_template(request, pk)
        context = {"versions": list(template_versions(template=template))}
        return Response(TemplateDetailSerializer(template, context=context).data)


class CatalogTemplateImportView(APIView):
    permission_classes = [MayImportTemplates]

    @extend_schema(
        operation_id="catalog_templates_import",
        request=ImportInputSerializer,
        responses={201: ImportedProcedureSerializer, 400: ImportErrorSerializer},
        tags=["catalog"],
    )
    def post(self, request: Request, pk: int) -> Response:
        """Import a template version as a new draft of the caller's municipality."""
        template = _visible_template(request, pk)
        data = ImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        municipality = _viewer(request).municipality
        versions = template_versions(template=template)
        number = data.validated_data.get("version")
        version = versions.filter(number=number).first() if number else versions.first()
        department = None
        if "department" in data.validated_data:
            department = Department.objects.filter(code=data.validated_data["department"]).first()
            if department is None:
                return Response({"detail": _("No such department.")}, status=400)
        if version is None:
            raise Http404
        try:
            procedure = template_import(
                actor=request.user,
                municipality=municipality,
                version=version,
                department=department,
                key=data.validated_data.get("key"),
            )
        except DocumentRejected as rejected:
            errors = [vars(error) for error in rejected.errors]
            return Response({"detail": str(rejected), "errors": errors}, status=400)
        except ServiceError as refused:
            return Response({"detail": str(refused)}, status=400)
        return Response(ImportedProcedureSerializer(procedure).data, status=status.HTTP_201_CREATED)
