"""The web form, mounted at ``/p/<municipality slug>/`` (DESIGN.md: GET /p/<slug>/<key>/)."""

from django.urls import path

from procedures.webform import views

urlpatterns = [
    path("status/<str:code>/", views.status, name="webform-status"),
    path("<slug:key>/", views.start, name="webform-start"),
    path("<slug:key>/q/<slug:step_id>/", views.step, name="webform-step"),
    path("<slug:key>/done/", views.done, name="webform-done"),
    path("<slug:key>/save/", views.save, name="webform-save"),
    path("<slug:key>/resume/<str:code>/", views.resume, name="webform-resume"),
]
