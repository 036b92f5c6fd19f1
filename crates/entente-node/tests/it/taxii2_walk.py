"""Walks a node with the OASIS taxii2-client: discovery, API root, collections, paged objects and
manifest, one object, its versions, and a POST with status polling. Prints a JSON summary.

Arguments: BASE USER PASSWORD BUNDLE REPORT_ID [CA]; with CA (a PEM file) the node is reached over
https and its certificate verified against that CA only."""

import json
import os
import sys

from taxii2client.v21 import Server, as_pages

base, user, password, bundle_path, report_id = sys.argv[1:6]
verify = sys.argv[6] if len(sys.argv) > 6 else True
if verify is not True:
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's CA file.
    os.environ["REQUESTS_CA_BUNDLE"] = verify
    os.environ.pop("CURL_CA_BUNDLE", None)
server = Server(base + "/taxii2/", user=user, password=password, verify=verify)
root = server.default or server.api_roots[0]
assert root.versions == ["application/taxii+json;version=2.1"], root.versions
collection = next(c for c in root.collections if c.id == "intel")
assert collection.can_read and collection.can_write

with open(bundle_path) as f:
    bundle = json.load(f)
status = collection.add_objects(
    json.dumps({"objects": bundle["objects"]}), wait_for_completion=True, poll_interval=1, timeout=30
)
status.refresh()

objects = [o["id"] for page in as_pages(collection.get_objects, per_request=2) for o in page.get("objects", [])]
manifest = [m["id"] for page in as_pages(collection.get_manifest, per_request=2) for m in page.get("objects", [])]
one = collection.get_object(report_id)
versions = collection.object_versions(report_id)

print(json.dumps({
    "status": status.status,
    "success_count": status.success_count,
    "objects": objects,
    "manifest": manifest,
    "object": [o["id"] for o in one.get("objects", [])],
    "versions": versions.get("versions", []),
}))
