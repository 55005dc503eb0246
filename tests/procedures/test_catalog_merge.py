"""Three-way merge of procedure documents: what is kept, what conflicts, how it resolves."""

import copy

from procedures.catalog.merge import merge_documents
from tests.procedures.docs import pet_registration


def base():
    return pet_registration()


def step(document, step_id):
    return next(s for s in document["steps"] if s["id"] == step_id)


def ids(document):
    return [s["id"] for s in document["steps"]]


def test_changes_of_different_fields_on_both_sides_are_all_kept():
    ours, theirs = base(), base()
    step(ours, "owner")["prompt"]["ja"] = "氏名をフルネームで入力してください"
    step(theirs, "owner")["validation"] = {"max_length": 40}
    theirs["fee"] = 2500
    result = merge_documents(base(), ours, theirs)
    assert result.conflicts == [] and result.clean
    merged = step(result.document, "owner")
    assert merged["prompt"]["ja"] == "氏名をフルネームで入力してください"
    assert merged["validation"] == {"max_length": 40}
    assert result.document["fee"] == 2500


def test_the_same_change_on_both_sides_is_not_a_conflict():
    ours, theirs = base(), base()
    ours["fee"] = theirs["fee"] = 1000
    result = merge_documents(base(), ours, theirs)
    assert result.clean and result.document["fee"] == 1000


def test_a_field_changed_differently_on_both_sides_is_a_conflict_that_keeps_ours_until_resolved():
    ours, theirs = base(), base()
    step(ours, "owner")["prompt"]["ja"] = "私たちの質問"
    step(theirs, "owner")["prompt"]["ja"] = "テンプレートの質問"
    result = merge_documents(base(), ours, theirs)
    (conflict,) = result.unresolved
    assert conflict.where == "steps.owner.prompt"
    assert conflict.kind == "both_changed"
    assert step(result.document, "owner")["prompt"]["ja"] == "私たちの質問"
    resolved = merge_documents(base(), ours, theirs, {"steps.owner.prompt": "theirs"})
    assert resolved.clean
    assert step(resolved.document, "owner")["prompt"]["ja"] == "テンプレートの質問"


def test_a_step_deleted_by_us_and_changed_by_them_is_a_conflict():
    ours, theirs = base(), base()
    ours["steps"] = [s for s in ours["steps"] if s["id"] != "photo"]
    step(theirs, "photo")["required"] = True
    result = merge_documents(base(), ours, theirs)
    (conflict,) = result.unresolved
    assert (conflict.where, conflict.kind) == ("steps.photo", "deleted_by_us")
    assert "photo" not in ids(result.document)
    taken = merge_documents(base(), ours, theirs, {"steps.photo": "theirs"})
    assert ids(taken.document) == ["owner", "change", "photo", "confirm"]


def test_a_step_deleted_by_them_and_changed_by_us_is_a_conflict():
    ours, theirs = base(), base()
    step(ours, "photo")["prompt"]["ja"] = "鑑札の写真（任意）"
    theirs["steps"] = [s for s in theirs["steps"] if s["id"] != "photo"]
    result = merge_documents(base(), ours, theirs)
    assert [c.kind for c in result.unresolved] == ["deleted_by_them"]
    assert "photo" in ids(result.document)
    dropped = merge_documents(base(), ours, theirs, {"steps.photo": "theirs"})
    assert "photo" not in ids(dropped.document)


def test_an_unchanged_step_deleted_on_one_side_is_deleted():
    theirs = base()
    theirs["steps"] = [s for s in theirs["steps"] if s["id"] != "photo"]
    result = merge_documents(base(), base(), theirs)
    assert result.clean and ids(result.document) == ["owner", "change", "confirm"]


def test_steps_added_on_both_sides_keep_their_place():
    ours, theirs = base(), base()
    ours["steps"].insert(1, {"id": "phone", "type": "phone", "prompt": {"ja": "電話番号"}})
    theirs["steps"].insert(3, {"id": "email", "type": "email", "prompt": {"ja": "メール"}})
    result = merge_documents(base(), ours, theirs)
    assert result.clean
    assert ids(result.document) == ["owner", "phone", "change", "photo", "email", "confirm"]


def test_a_reorder_on_one_side_is_taken_and_on_both_sides_conflicts():
    theirs = base()
    theirs["steps"] = [theirs["steps"][i] for i in (1, 0, 2, 3)]
    assert ids(merge_documents(base(), base(), theirs).document)[:2] == ["change", "owner"]
    ours = base()
    ours["steps"] = [ours["steps"][i] for i in (0, 2, 1, 3)]
    result = merge_documents(base(), ours, theirs)
    assert [c.where for c in result.unresolved] == ["steps"]


def test_the_key_always_stays_ours():
    ours, theirs = base(), copy.deepcopy(base())
    ours["key"] = "my-dog"
    theirs["key"] = "dog-change-v2"
    assert merge_documents(base(), ours, theirs).document["key"] == "my-dog"


def test_conflicts_serialize_absent_values_as_null():
    ours, theirs = base(), base()
    del step(ours, "photo")["required"]
    step(theirs, "photo")["required"] = True
    (conflict,) = merge_documents(base(), ours, theirs).unresolved
    assert conflict.to_dict()["ours"] is None and conflict.to_dict()["theirs"] is True
