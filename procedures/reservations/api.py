"""Public availability of a resource (no login; for the city website and the web fallback)."""

from datetime import timedelta

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from govtech.models import Municipality
from govtech.tenancy import tenant_scope
from procedures.reservations.schedule import TOKYO
from procedures.reservations.selectors import resource_by_key, slot_availability

MAX_DAYS = 62


class AvailabilityQuerySerializer(serializers.Serializer):
    # `from` is a Python keyword: the field is declared below under that name.
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, default=7)


AvailabilityQuerySerializer._declared_fields["from"] = serializers.DateField(
    required=False, help_text="First day (YYYY-MM-DD, Asia/Tokyo); today by default."
)


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    capacity = serializers.IntegerField()
    remaining = serializers.IntegerField()


class AvailabilitySerializer(serializers.Serializer):
    resource = serializers.CharField()
    name = serializers.CharField()
    slots = SlotSerializer(many=True)


class ResourceAvailabilityView(APIView):
    """Each bookable slot of the period with its start, end, capacity and remaining places."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        parameters=[AvailabilityQuerySerializer],
        responses=AvailabilitySerializer,
        summary="Public availability of a reservation resource",
    )
    def get(self, request: Request, slug: str, key: str) -> Response:
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        municipality = Municipality.objects.filter(slug=slug).first()
        if municipality is None:
            raise Http404
        now = timezone.now()
        first = query.validated_data.get("from") or now.astimezone(TOKYO).date()
        first = max(first, now.astimezone(TOKYO).date() - timedelta(days=0))
        with tenant_scope(municipality):
            resource = resource_by_key(key=key)
            if resource is None:
                raise Http404
            slots = slot_availability(
                resource=resource, first=first, days=query.validated_data["days"], now=now
            )
        body = {
            "resource": resource.key,
            "name": resource.name,
            "slots": [
                {
                    "start": s.starts_at.astimezone(TOKYO),
                    "end": s.ends_at.astimezone(TOKYO),
                    "capacity": s.capacity,
                    "remaining": s.remaining,
                }
                for s in slots
            ],
        }
        return Response(AvailabilitySerializer(body).data)
