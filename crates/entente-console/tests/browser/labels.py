"""What each reader of the demo federation may see, computed from the shipped data alone.

The suite's oracle: it reads the demo's manifest (what each nation receives and not), the
exercise objects (their labels and portion labels), the classification policies and the
registry's organisations, and works out for one reader (a nation and a clearance) which objects
it may see, which portions are cut for it, and every string that must never reach it.
"""

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

#: Properties that are not content: ids, dates, references, markings.
NOT_CONTENT = {
    "type", "spec_version", "id", "created", "modified", "valid_from", "valid_until",
    "first_seen", "last_seen", "published", "first_observed", "last_observed",
    "object_marking_refs", "granular_markings", "created_by_ref", "lang",
}
#: Shorter strings are too common to tell one object from another.
MIN_TEXT = 12


@dataclass(frozen=True)
class Label:
    """A parsed marking: policy, level rank, caveats and its REL TO lists."""

    policy: str
    rank: int
    caveats: frozenset
    rel: tuple  # one frozenset per REL TO segment, all of which apply

    def key(self):
        """What two renderings of the same label share, whatever their order."""
        return (self.policy, self.rank, self.caveats, frozenset(self.rel))


@dataclass
class Reader:
    """A signed-in user as the oracle sees it."""

    nation: str
    name: str
    password: str
    clearance: Label


@dataclass
class Sight:
    """What one reader may and may not see."""

    visible: dict = field(default_factory=dict)  # id -> entry of the exercise objects
    hidden: dict = field(default_factory=dict)
    cut: dict = field(default_factory=dict)  # id -> selectors cut for the reader
    forbidden: set = field(default_factory=set)  # strings that must appear nowhere
    forbidden_labels: set = field(default_factory=set)  # Label keys
    visible_labels: set = field(default_factory=set)
    visible_caveats: set = field(default_factory=set)
    ambiguous: int = 0


class Policies:
    """The classification policies and organisations of the shipped data."""

    def __init__(self, data: Path):
        self.levels = {}  # marking or alias -> (policy, rank)
        self.caveats = {}
        self.default = {}
        for f in sorted((data / "policies").glob("*.toml")):
            p = tomllib.loads(f.read_text())
            self.caveats[p["id"]] = set(p.get("caveats", []))
            self.default[p["id"]] = p.get("default_release")
            for rank, level in enumerate(p["levels"]):
                for m in [level["marking"], *level.get("aliases", [])]:
                    self.levels[m] = (p["id"], rank)
        self.members = {}
        for f in sorted((data / "registry" / "organizations").glob("*.toml")):
            for org in tomllib.loads(f.read_text()).get("organization", []):
                self.members[org["id"]] = {
                    m["nation"] for m in org.get("members", []) if not m.get("to")
                }

    def parse(self, marking: str) -> Label:
        """Parses a marking as the demo data and the console write it."""
        head, *rest = [s.strip() for s in marking.split("//")]
        policy, rank = self.levels[head]
        caveats, rel = set(), []
        for seg in rest:
            if seg.startswith("REL TO "):
                rel.append(frozenset(t.strip() for t in seg[7:].split(",")))
            else:
                caveats.add(seg)
        return Label(policy, rank, frozenset(caveats), tuple(rel))

    def releasable(self, label: Label, nation: str, origin: str) -> bool:
        """Whether a label lets `nation` read what `origin` labelled so."""
        if nation == origin:
            return True
        if not label.rel:
            d = self.default.get(label.policy)
            return isinstance(d, dict) and nation in self.members.get(d["members_of"], set())
        return all(any(t == nation or nation in self.members.get(t, ()) for t in seg)
                   for seg in label.rel)

    def cleared(self, clearance: Label, label: Label) -> bool:
        """A clearance covers a label of its policy, at most its level, with its caveats."""
        return (label.policy == clearance.policy and label.rank <= clearance.rank
                and label.caveats <= clearance.caveats)


def texts(obj: dict, selectors=None) -> list:
    """The distinctive strings of an object (or of some of its properties)."""
    out = []
    for k, v in obj.items():
        if k in NOT_CONTENT or k.endswith("_ref") or k.endswith("_refs"):
            continue
        if selectors is not None and k not in selectors:
            continue
        stack = [v]
        while stack:
            x = stack.pop()
            if isinstance(x, str) and len(x) >= MIN_TEXT:
                out.append(x)
            elif isinstance(x, list):
                stack.extend(x)
            elif isinstance(x, dict):
                stack.extend(x.values())
    return out


def sight(reader: Reader, manifest: dict, objects: list, policies: Policies) -> Sight:
    """What `reader` may see on its nation's node, and the strings it must never see."""
    fed = manifest["federation"]
    nation = next(n for n in fed["nations"] if n["nation"] == reader.nation)
    held = {e["id"] for e in nation["expected"]}
    titles = {p["id"]: p["title"].rstrip("…").strip() for p in fed["published"]}
    s = Sight()
    allowed = set()
    for entry in objects:
        obj, oid, origin = entry["object"], entry["object"]["id"], entry["origin"]
        label = policies.parse(entry["marking"])
        if (origin == reader.nation or oid in held) and policies.cleared(reader.clearance, label):
            s.visible[oid] = entry
            s.visible_labels.add(label.key())
            s.visible_caveats |= label.caveats
            cut = set()
            for selector, marking in (entry.get("portions") or {}).items():
                p = policies.parse(marking)
                if policies.releasable(p, reader.nation, origin) and policies.cleared(
                        reader.clearance, p):
                    s.visible_labels.add(p.key())
                    s.visible_caveats |= p.caveats
                else:
                    cut.add(selector)
                    s.forbidden.update(texts(obj, cut))
                    s.forbidden_labels.add(p.key())
            if cut:
                s.cut[oid] = cut
            allowed.update(texts(obj, {k for k in obj if k not in cut}))
            allowed.add(oid)
        else:
            s.hidden[oid] = entry
            s.forbidden.update([oid, oid.split("--", 1)[1], *texts(obj)])
            if titles.get(oid):
                s.forbidden.add(titles[oid])
            s.forbidden_labels.add(label.key())
            for marking in (entry.get("portions") or {}).values():
                s.forbidden_labels.add(policies.parse(marking).key())
    # A string also found in what the reader may see cannot tell a leak: leave it out.
    clear = {f for f in s.forbidden if any(f in a for a in allowed)}
    s.ambiguous = len(clear)
    s.forbidden -= clear
    s.forbidden_labels -= s.visible_labels
    return s


def load(manifest_path: Path, data: Path):
    """The manifest, the exercise objects and the policies."""
    manifest = json.loads(manifest_path.read_text())
    objects = json.loads((data / "demo" / "exercise-objects.json").read_text())["objects"]
    return manifest, objects, Policies(data)
