"""The columns of an export: the union across versions, multi-choice expansion, the
personal-data rule, and one submission's cells."""

from reports.exports.columns import build_columns, row_cells, versions_by_id
from tests.reports.conftest import V1, V2, V3

FIXED = ["受付番号", "状態", "申請日時", "バージョン", "チャネル", "担当者", "手数料（円）"]


def headers(documents, **options):
    return [c.header for c in build_columns(documents, omit_personal=False, **options)]


def test_three_versions_give_a_stable_union_of_columns_with_the_latest_labels():
    expected = [
        *FIXED,
        "電話番号",
        "飼い主氏名",
        "犬種",
        "毛色: 白",
        "毛色: 黒",
        "毛色: 赤",
        "飼育場所 (緯度)",
        "飼育場所 (経度)",
        "飼育場所 (住所)",
        "写真",
        "頭数",
    ]
    assert headers([V1, V2, V3]) == expected
    assert headers([V1, V2, V3]) == expected  # the same every time
    # A step only older versions had comes after the latest version's steps.
    assert headers([V1, V2])[-1] == "頭数"


def test_multi_choice_is_one_column_per_option_marked_with_a_check():
    columns = build_columns([V1, V2, V3], omit_personal=False)
    versions = versions_by_id([(1, 1, V1), (3, 3, V3)])
    old = {"pk": 1, "reference": "R-1", "status": "submitted", "submitted_at": None}
    old |= {"version_id": 1, "channel": "line", "assignee__email": None, "fee": 3000}
    old["answers"] = {"owner": "山田太郎", "colors": ["red", "white"], "count": 2}
    cells = dict(zip([c.header for c in columns], row_cells(columns, old, versions), strict=True))
    assert (cells["毛色: 赤"], cells["毛色: 白"], cells["毛色: 黒"]) == ("✓", "✓", "")
    assert cells["頭数"] == 2 and cells["バージョン"] == 1 and cells["飼い主氏名"] == "山田太郎"


def test_location_is_three_columns_and_a_photo_a_console_link(settings):
    settings.SITE_URL = "https://city.example"
    columns = build_columns([V3], omit_personal=False)
    row = {"pk": 7, "reference": "R-7", "status": "submitted", "submitted_at": None}
    row |= {"version_id": 3, "channel": "web", "assignee__email": "a@x.jp", "fee": None}
    row["answers"] = {
        "place": {"latitude": 35.1, "longitude": 139.2, "address": "中央1-1", "title": ""},
        "photo": {"ref": "0b5d", "content_type": "image/jpeg"},
    }
    versions = versions_by_id([(3, 3, V3)])
    cells = dict(zip([c.header for c in columns], row_cells(columns, row, versions), strict=True))
    assert (cells["飼育場所 (緯度)"], cells["飼育場所 (経度)"]) == (35.1, 139.2)
    assert cells["飼育場所 (住所)"] == "中央1-1"
    assert cells["写真"] == "https://city.example/admin/procedures/submission/7/photos/0b5d/"


def test_personal_data_columns_are_left_out_by_step_type():
    kept = [c.header for c in build_columns([V1, V2, V3], omit_personal=True)]
    assert kept == [*FIXED, "犬種", "毛色: 白", "毛色: 黒", "毛色: 赤", "頭数"]
