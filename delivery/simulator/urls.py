"""The simulator's URLs, mounted at ``/simulator/`` where ``SIMULATOR_ENABLED`` (never production).

``api/line/`` is the emulated LINE platform (``LINE_API_BASE_URL`` and
``LINE_API_DATA_BASE_URL`` point there); ``api/`` is the JSON API for tests and
scripts; the rest is the chat page.
"""

from django.urls import include, path, re_path

from delivery.simulator import api, api_richmenu, views

app_name = "simulator"

line_api_patterns = [
    path("v2/bot/message/reply", api.reply, name="line-reply"),
    path("v2/bot/message/push", api.push, name="line-push"),
    path("v2/bot/message/multicast", api.multicast, name="line-multicast"),
    path("v2/bot/message/narrowcast", api.narrowcast, name="line-narrowcast"),
    path("v2/bot/message/broadcast", api.broadcast, name="line-broadcast"),
    path(
        "v2/bot/message/progress/narrowcast",
        api.narrowcast_progress,
        name="line-narrowcast-progress",
    ),
    path("v2/bot/message/validate/<str:kind>", api.validate, name="line-validate"),
    path("v2/bot/message/quota", api.quota, name="line-quota"),
    path("v2/bot/message/quota/consumption", api.quota_consumption, name="line-quota-consumption"),
    path("v2/bot/message/<str:message_id>/content", api.message_content, name="line-content"),
    path("v2/bot/profile/<str:user_id>", api.profile, name="line-profile"),
    path("v2/bot/followers/ids", api.followers, name="line-followers"),
    path("v2/bot/info", api.bot_info, name="line-bot-info"),
    path("v2/bot/chat/loading/start", api.loading_start, name="line-loading-start"),
    path("v2/bot/richmenu", api_richmenu.rich_menu_create, name="line-richmenu-create"),
    path(
        "v2/bot/richmenu/validate", api_richmenu.rich_menu_validate, name="line-richmenu-validate"
    ),
    path("v2/bot/richmenu/list", api_richmenu.rich_menu_list, name="line-richmenu-list"),
    path("v2/bot/richmenu/bulk/link", api_richmenu.bulk_link, name="line-richmenu-bulk-link"),
    path("v2/bot/richmenu/bulk/unlink", api_richmenu.bulk_unlink, name="line-richmenu-bulk-unlink"),
    path("v2/bot/richmenu/alias", api_richmenu.alias_create, name="line-richmenu-alias-create"),
    path("v2/bot/richmenu/alias/list", api_richmenu.alias_list, name="line-richmenu-alias-list"),
    path(
        "v2/bot/richmenu/alias/<str:alias_id>",
        api_richmenu.alias_detail,
        name="line-richmenu-alias",
    ),
    path("v2/bot/richmenu/<str:rich_menu_id>", api_richmenu.rich_menu_detail, name="line-richmenu"),
    path(
        "v2/bot/richmenu/<str:rich_menu_id>/content",
        api_richmenu.rich_menu_content,
        name="line-richmenu-content",
    ),
    path("v2/bot/user/all/richmenu", api_richmenu.default_rich_menu, name="line-default-richmenu"),
    path(
        "v2/bot/user/all/richmenu/<str:rich_menu_id>",
        api_richmenu.default_rich_menu_set,
        name="line-default-richmenu-set",
    ),
    path(
        "v2/bot/user/<str:user_id>/richmenu",
        api_richmenu.user_rich_menu,
        name="line-user-richmenu",
    ),
    path(
        "v2/bot/user/<str:user_id>/richmenu/<str:rich_menu_id>",
        api_richmenu.user_rich_menu_link,
        name="line-user-richmenu-link",
    ),
    re_path(r"^(?P<path>.*)$", api.unknown_endpoint, name="line-unknown"),
]

urlpatterns = [
    path("", views.chat_page, name="chat"),
    path("api/channels/", views.channels, name="api-channels"),
    path("api/users/", views.users, name="api-users"),
    path("api/say/", views.say, name="api-say"),
    path("api/transcript/<str:user_id>/", views.transcript, name="api-transcript"),
    path("api/chat/<str:channel_id>/<str:user_id>/", views.chat_state, name="api-chat"),
    path("richmenu/<str:rich_menu_id>/image", views.rich_menu_image, name="richmenu-image"),
    path("content/<str:message_id>", views.content, name="content"),
    path("api/line/", include(line_api_patterns)),
]
