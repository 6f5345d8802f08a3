#!/usr/bin/env python3
"""Self-tests of scripts/fuzz_render.py's known differences (no kpt, no lummo):
several known kinds in one text are accepted together (`_composed_known`), and a
real loss mixed with a known kind is not.

  python3 -m unittest discover -s scripts -p test_fuzz_render.py   # make fuzz-render
"""
import os
import sys
import copy
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_render as F  # noqa: E402

# a.yaml as the user wrote it; b.yaml holds `# license b` at its head
SOURCE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  # keep me
data:
  x: "1"
# foot
"""
OTHER = """# license b
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
"""
# kpt, after two functions: b.yaml's head copied onto a.yaml's object
# (kpt-copies-comment-from-another-file) and the foot written twice at the end of
# the file (kpt-duplicates-foot-comment)
KPT = """# license b
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  # keep me
data:
  x: "1"
# foot

# foot
"""
LUMMO = SOURCE


def content_diff(kpt, lummo, source=SOURCE):
    """A difference of a.yaml as `diff_trees` makes it: lummo's tree is its a.yaml
    and b.yaml (kept as the user wrote it)."""
    user = F.input_lines({"a.yaml": source, "b.yaml": OTHER})
    tree = Counter(F._content(l) for t in (lummo, OTHER) for l in t.splitlines() if l.strip())
    return dict(mode="inplace", kind="content", cat="other", path="a.yaml", kpt_text=kpt,
                lummo_text=lummo, source=source, lummo_tree=tree, user=user)


def single(d):
    return [n for n, p, _ in F.KNOWN if p(d, None)]


class ComposedKnown(unittest.TestCase):
    def test_two_kinds_in_one_file_are_accepted_together(self):
        d = content_diff(KPT, LUMMO)
        self.assertEqual(single(d), [], "one kind alone does not explain it")
        names = F._composed_known(d, None)
        self.assertIsNotNone(names)
        # the foot's second copy is a copy too: the copies' rewrite, where
        # lummo's text has no counterpart of a line, may take both
        self.assertIn("kpt-copies-comment-from-another-file", names)
        self.assertLessEqual(set(names), {"kpt-duplicates-foot-comment", "kpt-copies-comment-from-another-file"})

    def test_each_kind_alone_is_still_its_predicate(self):
        twins = content_diff(KPT.replace("# license b\n", ""), LUMMO)
        self.assertIn("kpt-duplicates-foot-comment", single(twins))
        copy = content_diff(KPT.replace("\n# foot\n", "", 1), LUMMO)
        self.assertIn("kpt-copies-comment-from-another-file", single(copy))

    def test_a_lost_user_comment_mixed_with_known_kinds_is_not_accepted(self):
        lummo = LUMMO.replace("  # keep me\n", "")
        d = content_diff(KPT, lummo)
        self.assertIn("# keep me", F.lost_lines(KPT, lummo, d["user"]))
        self.assertEqual(single(d), [])
        self.assertIsNone(F._composed_known(d, None))

    def test_a_lost_copy_of_a_comment_written_twice_is_not_accepted(self):
        # the user wrote `# keep me` in both files; lummo drops a.yaml's: kpt's
        # line is no copy (lummo's tree lacks one the user wrote)
        d = content_diff(KPT, LUMMO.replace("  # keep me\n", ""))
        d["user"]["# keep me"] += 1
        self.assertIsNone(F._composed_known(d, None))

    def test_a_foot_kpt_dropped_and_held_above_a_linked_files_first_document(self):
        # fuzz seed 141 case 2956, -o DIR: link.yaml is a link to r0.yaml; kpt
        # holds link.yaml's last foot above r0.yaml's first document and drops
        # r0.yaml's own; lummo writes the foot below r0.yaml's last document
        source = "a: 1\n---\nb: 2\n\n# foot\n"
        lummo = source
        kpt = "# foot\na: 1\n---\nb: 2\n"
        user = F.input_lines({"r0.yaml": source, "link.yaml": source})
        tree = Counter(F._content(l) for l in (lummo * 2).splitlines() if l.strip())
        d = dict(mode="dir", kind="content", cat="other", path="out/r0.yaml", kpt_text=kpt,
                 lummo_text=lummo, source=source, lummo_tree=tree, user=user)
        self.assertEqual(single(d), [])
        self.assertEqual(set(F._composed_known(d, None) or ()),
                         {"kpt-drops-foot-below-last-item", "kpt-copies-comment-from-another-file"})
        # a foot lummo keeps nowhere else is lost when kpt moves it: not known
        lost = dict(d, lummo_tree=Counter(F._content(l) for l in lummo.splitlines() if l.strip()),
                    user=F.input_lines({"r0.yaml": source, "link.yaml": source + "# foot\n"}))
        self.assertIsNone(F._composed_known(lost, None))

    def test_a_changed_value_mixed_with_known_kinds_is_not_accepted(self):
        d = content_diff(KPT, LUMMO.replace('x: "1"', 'x: "2"'))
        self.assertEqual(single(d), [])
        self.assertIsNone(F._composed_known(d, None))

    def test_a_comment_only_lummo_adds_is_not_accepted(self):
        d = content_diff(KPT, LUMMO.replace("data:\n", "data:\n  # not the user's\n"))
        self.assertIsNone(F._composed_known(d, None))


# `-o unwrap`: kpt gives the second document's head to the first one (fuzz seed
# i1 case 71) and writes the first document's foot twice
UNWRAP_LUMMO = """apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  x: "1"
  # foot a
---
# head b
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
"""
UNWRAP_KPT = """# head b
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  x: "1"
  # foot a
# foot a
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
"""


def stdout_diff(kpt, lummo, user_text=UNWRAP_LUMMO):
    return dict(mode="unwrap", kind="stdout", cat="other", path="<stdout>", kpt_text=kpt, lummo_text=lummo,
                user=F.input_lines({"all.yaml": user_text}))


class ComposedUnwrap(unittest.TestCase):
    def test_a_head_given_to_the_document_before_and_a_duplicated_foot(self):
        d = stdout_diff(UNWRAP_KPT, UNWRAP_LUMMO)
        self.assertEqual(single(d), [])
        self.assertEqual(set(F._composed_known(d, None) or ()),
                         {"kpt-duplicates-foot-comment", "kpt-copies-comment-from-another-file"})

    def test_a_head_lummo_drops_is_not_accepted(self):
        lummo = UNWRAP_LUMMO.replace("# head b\n", "")
        self.assertIsNone(F._composed_known(stdout_diff(UNWRAP_KPT, lummo), None))

    def test_a_head_the_user_did_not_write_is_not_moved(self):
        # lummo puts a comment on b that kpt has on a and the user never wrote
        kpt = UNWRAP_KPT.replace("# head b", "# made up")
        lummo = UNWRAP_LUMMO.replace("# head b", "# made up")
        self.assertIsNone(F._composed_known(stdout_diff(kpt, lummo), None))

    def test_a_changed_value_is_not_accepted(self):
        lummo = UNWRAP_LUMMO.replace("name: b", "name: c")
        self.assertIsNone(F._composed_known(stdout_diff(UNWRAP_KPT, lummo), None))


# A flow collection's line comment, held by go-yaml's emitter once a function
# printed the collection in block style (`lummo-keeps-held-line-comment`).
HELD_USER = """apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  # do not edit
spec:
  list:
  - {a: 1}  # do not edit
  - {b: 2}
  extra: [x, y]  # about extra
"""
# lummo: each kept once, on its collection's first entry or the next item
HELD_LUMMO = """apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  # do not edit
spec:
  list:
  - a: 1
  - # do not edit
    b: 2
  extra:
  - x # about extra
  - y
"""
# kpt, two steps later: the list's comment written three times, the
# sequence's dropped (the next event's analysis overwrites it)
HELD_KPT = HELD_LUMMO.replace(
    "  - a: 1\n", "  - a: 1\n  # do not edit\n  # do not edit\n").replace(
    "  - x # about extra\n", "  - x\n")


class HeldLineComments(unittest.TestCase):
    def diff(self, kpt, lummo):
        user = F.input_lines({"a.yaml": HELD_USER})
        tree = Counter(F._content(l) for l in lummo.splitlines() if l.strip())
        return dict(mode="inplace", kind="content", cat="other", path="a.yaml", kpt_text=kpt,
                    lummo_text=lummo, source=HELD_USER, lummo_tree=tree, user=user)

    def test_kpts_copies_and_a_dropped_sequence_comment_are_accepted(self):
        # the same comment on a line of its own elsewhere (under metadata) is
        # the user's, not one of kpt's copies (fuzz seed 110 case 0)
        self.assertEqual(single(self.diff(HELD_KPT, HELD_LUMMO)), ["lummo-keeps-held-line-comment"])

    def test_the_list_comment_lummo_drops_is_not_accepted(self):
        lummo = HELD_LUMMO.replace("  - # do not edit\n    b: 2\n", "  - b: 2\n")
        self.assertEqual(single(self.diff(HELD_KPT, lummo)), [])

    def test_a_sequence_comment_lummo_moves_elsewhere_is_not_accepted(self):
        lummo = HELD_LUMMO.replace("  - x # about extra\n", "  - x\n").replace(
            "  name: a\n", "  name: a # about extra\n")
        self.assertEqual(single(self.diff(HELD_KPT, lummo)), [])



class HeldFootAndDeletedObjects(unittest.TestCase):
    """go-yaml's held foot below a dash, which lummo writes as kpt does, and
    comments of objects a function deleted (fuzz seeds 1 case 258, 117 cases
    54 and 251)."""

    LIST = "items:\n- a: 1\n  # f\n-\n# f\n  # f\n  b: 2\n"

    def test_a_held_foot_twin_may_stay_whole(self):
        self.assertIn(self.LIST, list(F._twin_variants(self.LIST)))
        # or one copy dropped, as before
        self.assertIn("items:\n- a: 1\n  # f\n- # f\n  b: 2\n", list(F._twin_variants(self.LIST)))

    def test_a_dash_alone_is_rejoined_with_the_line_below_it(self):
        self.assertEqual(F._rejoin_dashes("items:\n-\n  b: 2\n"), "items:\n- b: 2\n")
        # a held foot at column 0 keeps it apart
        self.assertEqual(F._rejoin_dashes("-\n# f\n  b: 2"), "-\n# f\n  b: 2")

    def test_the_comments_of_a_deleted_object_are_not_the_users_to_keep(self):
        sources = {"a.yaml": "# gone\nkind: A\nmetadata:\n  name: gone-1\n---\n# kept\nkind: A\nmetadata:\n  name: kept-2\n"}
        alive = "# kept\nkind: A\nmetadata:\n  name: kept-2\n"
        user = F._user_lines_of_kept_objects(sources, alive)
        self.assertEqual(user["# kept"], 1)
        self.assertEqual(user["# gone"], 0)

    def test_a_comment_kpt_repeats_from_step_to_step_is_a_duplicate(self):
        # fuzz seed i121 case 8: a held foot below the next item's dash, once
        # more after each exec step
        kpt = "- a: 1\n-\n# c\n  # c\n  # c\n  # c\n  b: 2\n"
        lummo = "- a: 1\n-\n# c\n  b: 2\n"
        self.assertTrue(F._kpt_duplicates_a_comment({"kpt_text": kpt, "lummo_text": lummo}, None))
        # a comment lummo lost is not a duplicate
        self.assertFalse(F._kpt_duplicates_a_comment({"kpt_text": kpt, "lummo_text": "- a: 1\n- b: 2\n"}, None))
        # two blocks that say different things stay
        self.assertEqual(F._collapse_repeats("  # a\n  # b\n  # a\n"), "  # a\n  # b\n  # a\n")

    def test_a_held_line_comment_kpt_wrote_into_another_file(self):
        # fuzz seed 122 case 366: kpt wrote it into the Kptfile next in the
        # list; lummo keeps it on its own object, in another file
        from collections import Counter
        user = Counter(["- {a: 1}  # c", "apiVersion: kpt.dev/v1"])
        d = {"kpt_text": "apiVersion: kpt.dev/v1 # c\nkind: Kptfile\n",
             "lummo_text": "apiVersion: kpt.dev/v1\nkind: Kptfile\n", "user": user,
             "lummo_tree": Counter(["a: 1 # c", "apiVersion: kpt.dev/v1"])}
        self.assertTrue(F._lummo_keeps_a_held_line_comment(d, None))
        # not where lummo's tree lacks it
        self.assertFalse(F._lummo_keeps_a_held_line_comment(dict(d, lummo_tree=Counter(["a: 1"])), None))

    def test_a_held_line_comment_kept_in_its_slot_when_its_words_stand_alone_too(self):
        # fuzz seed 129 case 823: lummo keeps it once, in its own object's next
        # slot (`mode: 493 # c`); the user also wrote `# c` on lines of their own,
        # which are other comments
        from collections import Counter
        user = Counter(["- {a: 1}  # c", "# c", "# c", "apiVersion: v1"])
        d = {"kpt_text": "apiVersion: v1\nkind: Widget # c\n",
             "lummo_text": "apiVersion: v1\nkind: Widget\n", "user": user,
             "lummo_tree": Counter(["mode: 493 # c", "# c", "# c", "apiVersion: v1"])}
        self.assertTrue(F._lummo_keeps_a_held_line_comment(d, None))
        # not where lummo's tree lacks the line comment
        self.assertFalse(F._lummo_keeps_a_held_line_comment(
            dict(d, lummo_tree=Counter(["mode: 493", "# c", "# c"])), None))

    def test_stdout_counts_the_lines_of_an_object_printed_under_kpts_default_path(self):
        # fuzz seed 129 case 355: a function dropped the object's path; the
        # text names `deployment_a.yaml`, the user wrote it in r2.yml
        original = {"r1.yaml": "kind: ConfigMap\nmetadata:\n  name: b\n",
                    "r2.yml": "kind: Deployment\nmetadata:\n  name: a\nports:\n- {p: 1}  # c\n",
                    "README.md": "# c\n"}
        text = ("- kind: Deployment\n  metadata:\n    name: a\n    annotations:\n"
                "      config.kubernetes.io/path: 'deployment_a.yaml'\n- kind: ConfigMap\n"
                "  metadata:\n    name: b\n    annotations:\n      config.kubernetes.io/path: 'r1.yaml'\n")
        user = F.stdout_user_lines(original, [text, text])
        self.assertEqual(user["{p: 1}  # c"], 1)
        # a file no printed object comes from is not counted
        self.assertEqual(user["# c"], 0)

    def test_a_foot_kpt_drops_below_the_last_item_is_known_in_dir_and_unwrap(self):
        # fuzz seed 129 case 1897: kpt's -o DIR drops `# team`, lummo keeps it
        from collections import Counter
        d = dict(mode="dir", kpt_text="a: 1\n  # hash\n", lummo_text="a: 1\n  # hash\n\n# team\n",
                 user=Counter(["# team", "a: 1"]))
        self.assertTrue(F._kpt_drops_a_foot_below_the_last_item(d, None))
        self.assertTrue(F._kpt_drops_a_foot_below_the_last_item(
            dict(d, kpt_text="a: 1\n---\nb: 2\n", lummo_text="a: 1\n\n# team\n---\nb: 2\n"), None))
        # not a comment the user did not write, nor one more than the user wrote
        self.assertFalse(F._kpt_drops_a_foot_below_the_last_item(dict(d, user=Counter(["a: 1"])), None))
        self.assertFalse(F._kpt_drops_a_foot_below_the_last_item(
            dict(d, lummo_text="a: 1\n  # hash\n\n# team\n# team\n"), None))
        # not in place, not in the middle of a document, not a line lummo lacks
        self.assertFalse(F._kpt_drops_a_foot_below_the_last_item(dict(d, mode="inplace"), None))
        self.assertFalse(F._kpt_drops_a_foot_below_the_last_item(
            dict(d, kpt_text="a: 1\nb: 2\n", lummo_text="a: 1\n\n# team\nb: 2\n"), None))
        self.assertFalse(F._kpt_drops_a_foot_below_the_last_item(dict(d, lummo_text="a: 1\n\n# team\n"), None))
        # fuzz seed 132 case 7354: kpt's text holds a copy of its own (a head
        # copied from a linked file); lummo's one more, the user's foot
        self.assertTrue(F._kpt_drops_a_foot_below_the_last_item(
            dict(d, kpt_text="# team\na: 1\n", lummo_text="# team\na: 1\n\n# team\n"), None))
        self.assertFalse(F._kpt_drops_a_foot_below_the_last_item(
            dict(d, kpt_text="# team\na: 1\n", lummo_text="# team\na: 1\n\n# team\n# team\n"), None))

    def test_a_foot_kpt_moves_into_the_next_items_file_is_known_in_dir(self):
        # an exec-only pipeline whose last step sorts its items: kpt's -o DIR
        # reads the Widget's foot back as the head of the Kptfile below it;
        # lummo keeps it in r1.yml (ARCHITECTURE.md, fuzz seed i133 case 287)
        from collections import Counter
        user = Counter(["# TODO keep", "# x", "apiVersion: kpt.dev/v1", "kind: Widget"])
        widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: x\n"
        kptfile = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n"
        r1 = dict(mode="dir", path="out/r1.yml", kpt_text=widget,
                  lummo_text=widget + "\n# TODO keep\n# x\n", user=user)
        self.assertTrue(F._kpt_drops_a_foot_below_the_last_item(r1, None))
        moved = dict(mode="dir", path="out/Kptfile", kpt_text="# TODO keep\n# x\n" + kptfile,
                     lummo_text=kptfile, user=user, source=kptfile,
                     lummo_tree=Counter(["# TODO keep", "# x"]))
        self.assertTrue(F._kpt_copies_a_comment_from_another_file(moved, None))
        # not when lummo's tree lost it
        self.assertFalse(F._kpt_copies_a_comment_from_another_file(dict(moved, lummo_tree=Counter()), None))

    def test_a_comment_less_indented_than_a_block_scalars_value_ends_it(self):
        # fuzz seed 130 case 6965: `    # hash` below `      indented` is the
        # user's comment, not a line of the `|+` value
        user = F.input_lines({"a.yaml": "a:\n  s: |+\n      indented\n\n    # hash\n  # deeper\n"})
        self.assertEqual((user["# hash"], user["indented"], user["# deeper"]), (1, 1, 1))
        user = F.input_lines({"a.yaml": "a:\n  s: |+\n    v\n    # in\n\n      # more\n"})
        self.assertEqual((user["# in"], user["# more"]), (0, 0))

    def test_a_foot_kpt_drops_composes_with_another_kind(self):
        # fuzz seed 130 case 6965's kinds: a foot kpt's -o DIR drops below the
        # last item, next to a `|+` value kpt grows; each predicate alone
        # rejects the pair, the two together accept it
        from collections import Counter
        user = Counter(["a: 1", "s: |+", "v", "# team"])
        d = dict(mode="dir", kpt_text="a: 1\ns: |+\n  v\n\n\n\n",
                 lummo_text="a: 1\ns: |+\n  v\n\n\n# team\n", user=user)
        self.assertFalse(F._kpt_drops_a_foot_below_the_last_item(d, None))
        self.assertFalse(F._kpt_grows_a_keep_scalar(d, None))
        self.assertEqual(F._composed_known(d, None), ("kpt-drops-foot-below-last-item", "kpt-grows-keep-scalar"))
        # not a comment the user did not write, not in place, not a value kpt shrank
        self.assertIsNone(F._composed_known(dict(d, user=Counter(["a: 1", "s: |+", "v"])), None))
        self.assertIsNone(F._composed_known(dict(d, mode="inplace"), None))
        self.assertIsNone(F._composed_known(dict(d, kpt_text="a: 1\ns: |+\n  v\n"), None))

    def test_twins_at_the_end_of_an_item_with_a_held_pair_lummo_writes_too(self):
        # fuzz seed 130 case 3364: in a ResourceList kpt writes a foot twice at
        # one indentation, a blank line between, before the next item's dash;
        # the held foot below that dash lummo writes twice too
        k = "items:\n- a: 1\n  b:\n    c: 1\n    # f\n\n    # f\n-\n# h\n  # h\n  d: 1\n"
        m = "items:\n- a: 1\n  b:\n    c: 1\n    # f\n-\n# h\n  # h\n  d: 1\n"
        d = dict(kpt_text=k, lummo_text=m)
        self.assertIn(m, [v["kpt_text"] for v in F._rewrite_twins(d)])
        # not a foot written once more than twice, nor twins with other text between
        for other in (k.replace("# f\n-", "# f\n\n    # f\n-"), k.replace("\n\n    # f", "\n    x: 1\n    # f")):
            self.assertNotIn(m, [v["kpt_text"] for v in F._rewrite_twins(dict(d, kpt_text=other))])

    def test_a_folded_value_kpt_wrote_twice_grew_twice(self):
        # fuzz seed i131 case 44: two steps before the first exec step, each a
        # pass through go-yaml's folded writing, each a line break more
        m = "spec:\n  extra: >\n    line one\n      indented\n"
        k = "spec:\n  extra: >\n    line one\n\n\n      indented\n"
        self.assertEqual(F.stdin_key(k, m), "kpt-adds-newline-in-folded-scalar")
        d = dict(kpt_text='spec:\n  extra: "line one\\n\\n\\n  indented\\n"\n',
                 lummo_text='spec:\n  extra: "line one\\n  indented\\n"\n')
        self.assertTrue(F._kpt_adds_newline_in_folded_scalar(d, None))
        # not a break where no more-indented line follows, nor a value kpt shrank
        self.assertFalse(F._kpt_adds_newline_in_folded_scalar(
            dict(d, kpt_text='spec:\n  extra: "line one\\n\\n\\nnot indented\\n"\n',
                 lummo_text='spec:\n  extra: "line one\\nnot indented\\n"\n'), None))
        self.assertFalse(F._kpt_adds_newline_in_folded_scalar(dict(d, kpt_text=d["lummo_text"], lummo_text=d["kpt_text"]), None))

    def test_a_folded_value_and_a_grown_keep_scalar_in_one_file(self):
        # fuzz seed 140 case 114: a keep scalar above a less indented comment and
        # a folded one, each rewritten by go-yaml as its known kind says
        lummo = 'a: |+\n  key: value\n\n# c\nb: "line one\\n  indented\\n"\n'
        kpt = 'a: |+\n  key: value\n\n\n# c\nb: "line one\\n\\n  indented\\n"\n'
        d = dict(kpt_text=kpt, lummo_text=lummo)
        self.assertTrue(F._kpt_adds_newline_in_folded_scalar(d, None))
        # grown alone is the keep scalar's own kind; a comment kpt lacks is not known
        self.assertFalse(F._kpt_adds_newline_in_folded_scalar(
            dict(d, kpt_text=kpt.replace("\\n\\n  indented", "\\n  indented")), None))
        self.assertFalse(F._kpt_adds_newline_in_folded_scalar(dict(d, kpt_text=kpt.replace("# c\n", "")), None))

    def test_a_held_line_comment_kpt_writes_twice_in_one_slot_form(self):
        # fuzz seed 130 case 998: kpt writes `' # c` twice, lummo once, as often
        # as the user wrote it
        from collections import Counter
        user = Counter(["{topic: a}  # c", "a: 'x"])
        d = {"kpt_text": "a: 'x\n\n' # c\nb: 'y\n\n' # c\n", "lummo_text": "a: 'x\n\n' # c\nb: 'y\n\n'\n",
             "user": user, "lummo_tree": Counter(["' # c", "a: 'x"])}
        self.assertTrue(F._lummo_keeps_a_held_line_comment(d, None))
        # not where the user wrote it twice and lummo keeps one
        self.assertFalse(F._lummo_keeps_a_held_line_comment(dict(d, user=user + Counter(["{b: 1}  # c"])), None))

    def test_a_block_scalars_comment_like_lines_are_not_the_users_comments(self):
        user = F.input_lines({"a.yaml": "data:\n  k: >\n    v\n    # hash\n# foot\n"})
        self.assertEqual((user["# hash"], user["# foot"], user["v"]), (0, 1, 1))

    def test_a_comment_after_a_closing_quote_is_a_line_comment(self):
        # a single-quoted value over lines ends with `'` at column 0 (fuzz seed
        # 119 case 988: a held line comment written there)
        self.assertEqual(F._trailing_comment("' # c"), ("'", "# c"))
        self.assertEqual(F._trailing_comment("  b' # c"), ("  b'", "# c"))
        self.assertIsNone(F._trailing_comment("'a # b'"))
        # a last line that looks like a comment (fuzz seed 129 case 4061)
        self.assertEqual(F._trailing_comment("    # hash' # c"), ("    # hash'", "# c"))
        self.assertIsNone(F._trailing_comment("# it's # c"))
        self.assertIsNone(F._trailing_comment("# hash"))

    def test_unwrap_counts_only_the_comments_of_objects_it_prints(self):
        # `-o unwrap` names no path: every file's lines, but a deleted object's
        # (fuzz seed 119 case 715: kpt had copied its foot into the next object)
        original = {"a.yaml": "kind: A\nmetadata:\n  name: gone-1\n# gone\n",
                    "b.yaml": "# kept\nkind: A\nmetadata:\n  name: kept-2\n"}
        texts = ["# gone\n# kept\nkind: A\nmetadata:\n  name: kept-2\n", "# kept\nkind: A\nmetadata:\n  name: kept-2\n"]
        user = F.stdout_user_lines(original, texts)
        self.assertEqual((user["# kept"], user["# gone"]), (1, 0))
        self.assertEqual(F.lost_lines(texts[0], texts[1], user), [])


class SetterOnKptAnnotation(unittest.TestCase):
    """create-setters' comment on kpt's own annotations (fuzz seed i133 cases 293, 391)."""
    MODEL = {"files": [{"path": "sub1/r3.yaml"}], "packages": [
        {"dir": "", "mutators": [{"image": "gcr.io/kpt-fn/apply-setters:v0.2.1", "configMap": [["replicas", "web2"]]}]},
        {"dir": "sub1", "mutators": [{"image": "gcr.io/kpt-fn/create-setters:v0.1.0",
                                      "configMap": [["replicas", '"3"']]}]}]}

    def test_a_file_kpt_moves_by_the_setter_is_known(self):
        self.assertTrue(F._kpt_moves_a_file_by_a_setter({"kind": "missing-file", "path": "sub1/rweb2.yaml"}, self.MODEL))
        self.assertTrue(F._kpt_moves_a_file_by_a_setter({"kind": "extra-file", "path": "sub1/r3.yaml"}, self.MODEL))
        self.assertFalse(F._kpt_moves_a_file_by_a_setter({"kind": "missing-file", "path": "sub1/other.yaml"}, self.MODEL))
        no_apply = copy.deepcopy(self.MODEL)
        no_apply["packages"][0]["mutators"] = []
        self.assertFalse(F._kpt_moves_a_file_by_a_setter({"kind": "extra-file", "path": "sub1/r3.yaml"}, no_apply))

    def test_kpts_records_of_setting_its_path_are_known_in_results(self):
        """Fuzz seed i140 case 1050: apply-setters' records of setting kpt's path
        annotations, and nothing else, are what kpt's results.yaml has more."""
        def record(message, field, path="r3.yaml"):
            return ("      - message: %s\n        severity: info\n        field:\n          path: %s\n"
                    "        file:\n          path: %s\n" % (message, field, path))
        head = "apiVersion: kpt.dev/v1\nkind: FunctionResultList\nitems:\n  - image: apply-setters\n    results:\n"
        lummo = head + record('set field value to "web2"', "data.replicas")
        kpt = head + record('set field value to "rweb2.yaml"', "metadata.annotations.config.kubernetes.io~1path") \
            + record('set field value to "rweb2.yaml"', "metadata.annotations.internal.config.kubernetes.io~1path") \
            + record('set field value to "web2"', "data.replicas")
        d = {"kind": "results", "kpt_text": kpt, "lummo_text": lummo}
        self.assertTrue(F._kpt_moves_a_file_by_a_setter(d, self.MODEL))
        other = dict(d, lummo_text=head + record('set field value to "web3"', "data.replicas"))
        self.assertFalse(F._kpt_moves_a_file_by_a_setter(other, self.MODEL))
        no_apply = copy.deepcopy(self.MODEL)
        no_apply["packages"][0]["mutators"] = []
        self.assertFalse(F._kpt_moves_a_file_by_a_setter(d, no_apply))

    def test_a_stdin_with_kpts_setter_comment_on_its_annotation(self):
        kpt = "      config.kubernetes.io/path: 'r3.yaml' # kpt-set: r${replicas}.yaml\n      a: 3 # kpt-set: ${replicas}\n"
        lummo = "      config.kubernetes.io/path: 'r3.yaml'\n      a: 3 # kpt-set: ${replicas}\n"
        self.assertEqual(F.stdin_key(kpt, lummo), "kpt-keeps-setter-comment-on-its-annotation")
        self.assertEqual(F.stdin_key(kpt, lummo.replace("a: 3 # kpt-set: ${replicas}", "a: 3")), "other")


# an in-process step ran (`_holds_objects_in_process`)
HELD = {"packages": [{"mutators": [{"mode": "image", "image": "gcr.io/kpt-fn/set-labels:v0.1.5"}]}]}


class MapBack(unittest.TestCase):
    def test_a_setter_comment_on_a_restyling_steps_command_is_written_back(self):
        # the longest program first (fuzz seed i138 case 207): the restyling
        # release's command holds another step's `kpt-catalog`
        mapping = {
            "/b/kpt-catalog gcr.io/kpt-fn/apply-setters:v0.2.1": "gcr.io/kpt-fn/apply-setters:v0.2.1",
            "/r/json-roundtrip-fn.py /b/kpt-catalog gcr.io/kpt-fn/set-annotations:v0.1.3":
                "gcr.io/kpt-fn/set-annotations:v0.1.3",
        }
        text = "    - image: x # kpt-set: /r/json-roundtrip-fn.py /b/kpt-catalog gcr.io/kpt-fn/set-annotations:v0.1.${a}\n"
        self.assertEqual(F.map_back(text, mapping),
                         "    - image: x # kpt-set: gcr.io/kpt-fn/set-annotations:v0.1.${a}\n")


    def test_an_exec_line_a_setter_rewrote_is_its_image_step(self):
        # fuzz seed i141 case 38: apply-setters set the step's image by
        # create-setters' comment on it; the command names an image no step has
        mapping = {"/b/kpt-catalog ghcr.io/kptdev/krm-functions-catalog/starlark:v0.1.0":
                   "ghcr.io/kptdev/krm-functions-catalog/starlark:v0.1.0"}
        text = ('    - exec: "/b/kpt-catalog ghcr.io/kptdev/krm-functions-catalog/starlark:v0.web.0" '
                "# kpt-set: /b/kpt-catalog ghcr.io/kptdev/krm-functions-catalog/starlark:v0.${tier}.0\n")
        self.assertEqual(F.map_back(text, mapping),
                         "    - image: ghcr.io/kptdev/krm-functions-catalog/starlark:v0.web.0 "
                         "# kpt-set: ghcr.io/kptdev/krm-functions-catalog/starlark:v0.${tier}.0\n")
        # another program's exec line stays
        other = '    - exec: "/x/fn ghcr.io/kptdev/krm-functions-catalog/starlark:v0.web.0"\n'
        self.assertEqual(F.map_back(other, mapping), other)

class ReindentedFoot(unittest.TestCase):
    def test_a_foot_in_a_file_the_user_had_none_at(self):
        # an object a function moved to kpt's default path (fuzz seed 139 case 1576)
        d = dict(mode="inplace", path="widget_w.yaml", kpt_text="a:\n  b: 1\n  # c\n",
                 lummo_text="a:\n  b: 1\n# c\n", user=Counter({"# c": 1}), source=None)
        self.assertTrue(F._kpt_reindents_a_foot_comment(d, None))
        self.assertFalse(F._kpt_reindents_a_foot_comment(dict(d, user=Counter()), None))
        self.assertFalse(F._kpt_reindents_a_foot_comment(
            dict(d, lummo_text="a:\n  b: 2\n# c\n"), None))


    def test_a_key_a_function_put_after_the_foot(self):
        # fuzz seed 141 case 662: lummo's foot at column 0 is set apart from the
        # new key by a blank line; kpt's deeper foot is not
        d = dict(mode="inplace", path="r0.yaml", kpt_text="a:\n  b: 1\n  # c\nd: 2\n",
                 lummo_text="a:\n  b: 1\n# c\n\nd: 2\n", user=Counter({"# c": 1}), source="a:\n  b: 1\n# c")
        self.assertEqual([r["kpt_text"] for r in F._rewrite_reindent(d)], [d["lummo_text"]])
        # not a blank line before a key kpt lacks, nor one below a comment kept in place
        other = dict(d, lummo_text="a:\n  b: 1\n# c\n\ne: 2\n")
        self.assertNotIn(other["lummo_text"], [r["kpt_text"] for r in F._rewrite_reindent(other)])
        kept = dict(d, kpt_text="a:\n  b: 1\n# c\nd: 2\n")
        self.assertEqual(list(F._rewrite_reindent(kept)), [])

class StepField(unittest.TestCase):
    def test_a_results_field_naming_an_image_steps_exec(self):
        # fuzz seed i139 case 48
        k = b"- field:\n    path: pipeline.mutators[1].exec\n"
        self.assertTrue(F._same_but_step_field(k, k.replace(b".exec", b".image")))
        self.assertFalse(F._same_but_step_field(k, k.replace(b"[1].exec", b"[2].image")))
        self.assertFalse(F._same_but_step_field(k, None))


class MovedObjectsComments(unittest.TestCase):
    def test_a_foot_that_went_with_its_object_to_another_file(self):
        # fuzz seed i139 case 957: a step moved deploy-1 to sub/m.yaml; kpt left
        # a copy of its foot in r0.yaml, lummo's went with it
        source = "kind: A\nmetadata:\n  name: a-1\n\n# foot\n---\nkind: A\nmetadata:\n  name: a-2\n"
        kpt = "# foot\nkind: A\nmetadata:\n  name: a-2\n"
        lummo = "kind: A\nmetadata:\n  name: a-2\n"
        user = Counter(["# foot", "kind: A", "metadata:", "name: a-1", "name: a-2"])
        d = dict(mode="inplace", path="r0.yaml", kpt_text=kpt, lummo_text=lummo, source=source,
                 user=user, lummo_tree=Counter(["# foot", "kind: A"]))
        self.assertTrue(F._kpt_copies_a_comment_from_another_file(d, None))
        # not when lummo's tree lost it, nor when the object stayed in the file
        self.assertFalse(F._kpt_copies_a_comment_from_another_file(dict(d, lummo_tree=Counter()), None))
        stayed = dict(d, kpt_text="kind: A\nmetadata:\n  name: a-1\n---\n# foot\n" + lummo,
                      lummo_text="kind: A\nmetadata:\n  name: a-1\n---\n" + lummo)
        self.assertFalse(F._kpt_copies_a_comment_from_another_file(stayed, None))


class HeldCommentSpots(unittest.TestCase):
    def test_a_held_comment_after_a_dash_above_a_held_foot_leaves_the_dash_alone(self):
        # fuzz seed s138 case 32: `- # c` over a foot at column 0
        spots = list(F._held_comment_spots(["x: 1", "- # c", "# foot", "  a: 1"], "# c"))
        self.assertIn(["x: 1", "-", "# foot", "  a: 1"], spots)
        # over the item's first line: the line joins the dash
        spots = list(F._held_comment_spots(["- # c", "  a: 1"], "# c"))
        self.assertEqual(spots, [["- a: 1"]])


def stdin_kinds(original, kpt, lummo):
    """The kinds `diff_stdin` gives a step's stdin recorded by both tools after
    a held step."""
    diffs = []
    F.diff_stdin("inplace", {"s1.yaml": kpt.encode()}, {"s1.yaml": lummo.encode()},
                 diffs, original, held=True)
    return [d["kind"] for d in diffs]


class InProcess(unittest.TestCase):
    """lummo-holds-comments-in-process: only where a whole-line comment stands."""
    KPT = "a: 1\ndata:\n  k: 1\n  # beta\n\n  n: x\n  # beta\n# beta\n"
    LUMMO = "a: 1\ndata:\n  k: 1\n  n: x\n# beta\n"

    def diff(self, kpt, lummo):
        user = Counter({"# beta": 1})
        return dict(mode="inplace", kind="content", cat="other", path="a.yaml", kpt_text=kpt,
                    lummo_text=lummo, user=user, lummo_tree=Counter(), source=None)

    def test_comments_kpt_moved_and_copied_are_known_after_a_held_step(self):
        d = self.diff(self.KPT, self.LUMMO)
        self.assertTrue(F._lummo_holds_comments_in_process(d, HELD))
        self.assertFalse(F._lummo_holds_comments_in_process(d, {"packages": []}), "no step in process")

    def test_a_lost_comment_or_a_changed_value_is_not(self):
        for lummo in (self.LUMMO.replace("# beta\n", ""), self.LUMMO.replace("n: x", "n: y"),
                      self.LUMMO.replace("k: 1\n  n: x", "n: x\n  k: 1")):
            d = self.diff(self.KPT, lummo)
            self.assertFalse(F._lummo_holds_comments_in_process(d, HELD), lummo)
            self.assertIsNone(F._composed_known(d, HELD), lummo)

    def test_with_a_folded_value_kpt_grew_and_quoted(self):
        kpt, lummo = 'a: "x\\n\\n  y\\n"\n# beta\n# beta\n', 'a: "x\\n  y\\n"\n# beta\n'
        self.assertTrue(F._lummo_holds_comments_in_process(self.diff(kpt, lummo), HELD))
        self.assertFalse(F._lummo_holds_comments_in_process(self.diff(kpt.replace("y", "z"), lummo), HELD))

    def test_a_comment_of_an_object_a_step_removed_may_be_missing_from_a_stdin(self):
        # kpt's ResourceList gave a Kptfile's foot to the next item as its head,
        # and remove-local-config-resources then removed the Kptfile (seed i134 case 5)
        original = {"Kptfile": "kind: Kptfile\nmetadata:\n  name: root\n\n# note\n",
                    "a.yaml": "kind: A\nmetadata:\n  name: a-1\n# keep\n"}
        kpt = "items:\n- # note\n  kind: A\n  metadata:\n    name: a-1\n    annotations:\n" \
              "      config.kubernetes.io/path: a.yaml\n  # keep\n"
        lummo = kpt.replace("- # note\n  kind", "- kind")
        user = F.input_lines(original)
        held = F.stdout_user_lines(original, [lummo])
        self.assertTrue(F._comments_moved_only(kpt, lummo, user, held))
        self.assertFalse(F._comments_moved_only(kpt, lummo, user), "without what lummo holds")
        # a comment of an object lummo still holds is not
        self.assertFalse(F._comments_moved_only(kpt, lummo.replace("  # keep\n", ""), user, held))

    def test_a_held_flow_line_comment_and_a_moved_foot_in_one_stdin(self):
        # lummo-keeps-held-line-comment and a foot kpt wrote twice (seed i133 case 283)
        original = {"a.yaml": "kind: A\nmetadata:\n  name: a-1\nspec:\n  subs:\n"
                              "    - {topic: a, subscription: b} # delta\n  x: 1\n  # foot\n"}
        user = F.input_lines(original)
        head = "items:\n- kind: A\n  metadata:\n    name: a-1\n    annotations:\n" \
               "      config.kubernetes.io/path: a.yaml\n  spec:\n    subs:\n"
        kpt = head + "    - topic: a\n      subscription: b\n    x: 1\n    # foot\n  # foot\n"
        lummo = head + "    - topic: a # delta\n      subscription: b\n    x: 1\n  # foot\n"
        self.assertTrue(F._held_comments_moved_only(kpt, lummo, user, original))
        self.assertFalse(F._held_comments_moved_only(kpt, lummo.replace("x: 1", "x: 2"), user, original))
        self.assertFalse(F._held_comments_moved_only(kpt, lummo.replace("  # foot\n", ""), user, original))

    def test_a_setter_comment_on_kpts_annotation_and_a_moved_foot_in_one_stdin(self):
        # kpt-keeps-setter-comment-on-its-annotation with a document foot kpt
        # gave the next item after a held step (fuzz seed i135 case 132)
        original = {"a.yaml": "kind: A\nmetadata:\n  name: a-1\nspec:\n  x: 1\n\n# c\n---\n"
                              "kind: B\nmetadata:\n  name: b-1\n"}

        def item(kind, setter):
            return ("kind: %s\n  metadata:\n    name: %s-1\n    annotations:\n"
                    "      config.kubernetes.io/path: 'a.yaml'%s\n"
                    % (kind, kind.lower(), " # kpt-set: ${name}.yaml" if setter else ""))
        kpt = "items:\n- " + item("A", True) + "  spec:\n    x: 1\n- # c\n  " + item("B", True)
        lummo = "items:\n- " + item("A", False) + "  spec:\n    x: 1\n-\n# c\n  " + item("B", False)

        def kinds(kpt, lummo):
            return stdin_kinds(original, kpt, lummo)
        self.assertEqual(kinds(kpt, lummo), ["stdin-known"])
        self.assertEqual(kinds(kpt, lummo.replace("x: 1", "x: 2")), ["stdin-other"])
        self.assertEqual(kinds(kpt, lummo.replace("# c\n", "")), ["stdin-other"])

    def test_a_comma_before_a_foot_and_a_moved_foot_in_one_stdin(self):
        # kpt-adds-comma-before-foot-comment after a held step (fuzz seed i138
        # case 293)
        original = {"a.yaml": "kind: A\nmetadata:\n  name: a-1\nspec:\n  l:\n  - {a: 1}\n# foot\n"}
        head = "items:\n- kind: A\n  metadata:\n    name: a-1\n  spec:\n    l:\n"
        kpt = head + "    - {a: 1,}\n    # foot\n  metadata2: x\n  # foot\n"
        lummo = head + "    - {a: 1}\n  metadata2: x\n  # foot\n"

        def kinds(kpt, lummo):
            return stdin_kinds(original, kpt, lummo)
        self.assertEqual(kinds(kpt, lummo), ["stdin-known"])
        self.assertEqual(kinds(kpt, lummo.replace("{a: 1}", "{a: 2}")), ["stdin-other"])

    def test_a_comment_taken_out_after_a_dash_leaves_the_dash(self):
        # kpt gave a copy after the next item's `- ` (fuzz seed i125 case 55)
        kpt = "- a: 1\n- # c\n  # c\n  # d\n  b: 2\n"
        self.assertEqual(F._rejoin_dashes(F._without_contents(kpt, {"# c": 2})), "- a: 1\n- # d\n  b: 2\n")

    def test_an_object_ensure_name_substring_renamed_keeps_its_users_lines(self):
        source = {"a.yaml": "apiVersion: v1\nkind: W\nmetadata:\n  name: w-3\n#owner\n"}
        alive = "apiVersion: v1\nkind: W\nmetadata:\n  name: w-3-suf\n"
        self.assertEqual(F._user_lines_of_kept_objects(source, alive)["#owner"], 1)
        self.assertEqual(F._user_lines_of_kept_objects(source, "name: other\n")["#owner"], 0)

    def test_a_grown_folded_value_a_step_printed_literal_is_known_with_moved_comments(self):
        # kpt's folded growth, then a restyling step's literal block (fuzz
        # seed i139 case 571), next to a comment kpt copied
        kpt = "# c\n# c\nkind: A\nnote: |\n  x\n\n    y\n"
        lummo = "# c\nkind: A\nnote: |\n  x\n    y\n"
        user = F.Counter({"# c": 1})
        self.assertTrue(F._comments_moved_only(kpt, lummo, user))
        self.assertFalse(F._comments_moved_only(kpt, lummo.replace("    y", "    z"), user))

    def test_a_held_line_comment_of_a_deleted_object_kpt_wrote_into_the_next_is_known(self):
        # a step printed `- {name: http}  # c` in block style, kpt's emitter
        # wrote the comment into the next object, then a step deleted the
        # comment's own object (fuzz seed i139 case 2932)
        kpt = "apiVersion: v1 # c\nkind: A\n"
        lummo = "apiVersion: v1\nkind: A\n"
        d = dict(kpt_text=kpt, lummo_text=lummo, user=F.Counter({"apiVersion: v1": 1, "kind: A": 1}),
                 gone=F.Counter({"{name: http}  # c": 1}), lummo_tree=F.Counter())
        self.assertTrue(F._lummo_keeps_a_held_line_comment(d, None))
        self.assertFalse(F._lummo_keeps_a_held_line_comment(dict(d, gone=F.Counter()), None))
        self.assertFalse(F._lummo_keeps_a_held_line_comment(dict(d, kpt_text=kpt.replace("kind: A", "kind: B")), None))

    def test_in_a_later_steps_input_too(self):
        # fuzz seed i141 case 230: kpt's node keeps the comment it wrote into
        # the next object, step after step, once its own object is gone
        kpt = "items:\n- apiVersion: apps/v1 # c\n  kind: Deployment\n"
        lummo = "items:\n- apiVersion: apps/v1\n  kind: Deployment\n"
        user = F.Counter({"apiVersion: apps/v1": 1, "kind: Deployment": 1, "- {a: 1}  # c": 1})
        gone = F.Counter({"- {a: 1}  # c": 1})
        self.assertEqual(F.stdin_key(kpt, lummo, user, gone), "lummo-keeps-held-line-comment")
        self.assertEqual(F.stdin_key(kpt, lummo, user), "other")
        self.assertEqual(F.stdin_key(kpt, lummo.replace("Deployment", "Job"), user, gone), "other")

    def test_an_object_search_replace_renamed_keeps_its_users_lines(self):
        # `cm-(.*)` -> `config-${1}`, then kpt's -o unwrap dropped the
        # object's foot (fuzz seed i139 case 417)
        source = {"a.yaml": "apiVersion: v1\nkind: W\nmetadata:\n  name: cm-3\n\n# foot\n"}
        alive = "apiVersion: v1\nkind: W\nmetadata:\n  name: config-3\n"
        self.assertEqual(F._user_lines_of_kept_objects(source, alive)["# foot"], 1)
        self.assertEqual(F._user_lines_of_kept_objects(source, "name: config-4\n")["# foot"], 0)

    def test_the_comments_of_a_deleted_nameless_document_are_not_the_users_to_keep(self):
        # a function deleted kustomization.yaml's item (fuzz seed i135 case 205)
        source = {"kustomization.yaml": "resources:\n- r0.yaml\n# see\n"}
        self.assertEqual(F._user_lines_of_kept_objects(source, "", {"r0.yaml"})["# see"], 0)
        self.assertEqual(F._user_lines_of_kept_objects(source, "", {"kustomization.yaml"})["# see"], 1)
        self.assertEqual(F._user_lines_of_kept_objects(source, "")["# see"], 1)


if __name__ == "__main__":
    unittest.main()
