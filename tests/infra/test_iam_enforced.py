"""Least privilege proven by execution: every function, and the ETL, run against moto's S3 with IAM enforced, each
as an IAM user holding exactly the policy the stack synthesises for its role (the template's statements, the
releases bucket's ARN resolved to the test bucket's). tests/infra/test_infra.py checks the grants' text against
patterns of its own; here a grant that names the wrong object is a route that does not answer 200.

What moto 5 enforces (moto/core/authorization.py, moto/iam/access_control.py), and so what this proves: each S3
request is signed with a known user's key and allowed only by an Allow in that user's identity policies (an explicit
Deny wins), matched on the action (s3:GetObject for a GET or HEAD of an object, s3:PutObject, s3:DeleteObject,
s3:ListBucket for a listing) and on the resource (arn:aws:s3:::bucket/key, or the bucket's ARN for a listing), '*'
matching any characters, '/' included, as in IAM (moto does not escape the rest of a pattern: its '.' matches any
character, a little looser than IAM, never stricter).

What it does not, and how the module deals with it:
- conditions: moto evaluates StringEquals only and no S3 request carries condition keys, so the ETL's ListBucket
  condition (StringLike on s3:prefix) lets every listing through. The ETL test records the prefix of every listing
  the ETL makes and matches it against that condition itself.
- a missing key is moto's 404 with or without s3:ListBucket (S3 answers 403 without it), so the functions'
  ListBucket grant is not exercised; test_infra checks it is there.
- DeleteObjects (how streamlens.release prunes old releases) is authorised against the bucket's ARN in moto, not
  per key as in S3, so pruning cannot be proven here; one run in a fresh bucket prunes nothing, and single deletes
  are checked.
- bucket policies (the stack's SSL-only Deny is not installed here), permission boundaries, session policies and
  SCPs are not evaluated. The roles' logs and SQS statements are kept, with their resources as ARNs of no S3 object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto.core import enable_iam_authentication

from etl_job.__main__ import main as etl_main
from etl_job.aws_task import EVENT_VARIABLE
from streamlens import layout
from streamlens.combined_app import load_handler
from streamlens.lambda_entry import http_event
from streamlens.storage import ObjectStore
from tests.aws import moto_bucket
from tests.helpers import REPO

FUNCTIONS_BUCKET = "iam-functions"        # the full release, and a raw/ object none of them may read
ETL_BUCKET = "iam-etl"                    # the generated data under raw/, for the ETL to publish from
FUNCTIONS = tuple(sorted(layout.READS))
ADMIN = {"Effect": "Allow", "Action": "*", "Resource": "*"}
# Negative controls (label -> the function run, whose policy, less which of its resources): without its grant
# a function answers 503, so the routes' 200s above are the grants' doing.
CONTROLS = {"get_actor-as-get_count_platform": ("get_actor", "get_count_platform", None),
            "recommender-without-its-model": ("recommender", "recommender", layout.RECOMMENDER_MODEL)}


def _etl_task(template) -> dict:
    [task] = template.find_resources("AWS::ECS::TaskDefinition").values()
    return task["Properties"]


def _role_statements(template, function: str) -> list[dict]:
    """The statements of every policy attached to the function's role (the ETL's: its task's role), as
    synthesised."""
    if function == "etl":
        role = _etl_task(template)["TaskRoleArn"]["Fn::GetAtt"][0]
    else:
        [props] = [f["Properties"] for f in template.find_resources("AWS::Lambda::Function").values()
                   if f["Properties"].get("FunctionName") == f"streamlens-dev-{function}"]
        role = props["Role"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in template.to_json()["Resources"][role]["Properties"], "resolve managed policies"
    return [s for p in template.find_resources("AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _resolve(value, bucket_id: str, bucket: str):
    """CloudFormation intrinsics resolved: the releases bucket's Arn and name are the test bucket's, any other
    resource's Arn an ARN of no S3 object; an intrinsic not handled here fails rather than pass unresolved."""
    if isinstance(value, list):
        return [_resolve(v, bucket_id, bucket) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and (intrinsic := next(iter(value))).startswith(("Fn::", "Ref")):
        argument = value[intrinsic]
        if intrinsic == "Fn::GetAtt" and argument[1] == "Arn":
            return f"arn:aws:s3:::{bucket}" if argument[0] == bucket_id else f"arn:aws:cloudformation:::{argument[0]}"
        if intrinsic == "Ref" and argument == bucket_id:
            return bucket
        if intrinsic == "Fn::Join":
            return argument[0].join(_resolve(part, bucket_id, bucket) for part in argument[1])
        raise AssertionError(f"unresolved intrinsic {value}")
    return {k: _resolve(v, bucket_id, bucket) for k, v in value.items()}


def _policy(template, function: str, bucket: str, without: str | None = None) -> list[dict]:
    """The function role's statements for `bucket`; without: the read grant of that release object dropped."""
    [bucket_id] = template.find_resources("AWS::S3::Bucket", {"Properties": {"VersioningConfiguration": {}}})
    statements = _resolve(_role_statements(template, function), bucket_id, bucket)
    if without is not None:
        dropped = f"arn:aws:s3:::{bucket}/{layout.RELEASES}*/{without}"
        assert any(dropped in s["Resource"] for s in statements), dropped
        statements = [{**s, "Resource": [r for r in s["Resource"] if r != dropped]}
                      if isinstance(s["Resource"], list) else s for s in statements]
    return statements


@dataclass(frozen=True)
class World:
    policies: dict[str, list[dict]]          # principal -> the statements of its one policy
    keys: dict[str, dict[str, str]]          # principal -> its access key, as environment variables
    objects: dict[str, list[str]]            # bucket -> every key in it before the tests
    release: dict[str, tuple[bytes, str]]    # the full release: key -> body, content type

    def become(self, monkeypatch, principal: str, bucket: str = FUNCTIONS_BUCKET) -> None:
        """streamlens makes each client from a fresh botocore session, which reads the principal's keys from the
        environment; boto3's default session, which keeps the credentials it found first, is dropped too."""
        for name, value in {**self.keys[principal], "STREAMLENS_BUCKET": bucket}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)

    def client(self, principal: str) -> BaseClient:
        key = self.keys[principal]
        return boto3.client("s3", region_name="us-east-1", aws_access_key_id=key["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=key["AWS_SECRET_ACCESS_KEY"])


def _user(iam, name: str, statements: list[dict]) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="synthesised",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


@pytest.fixture(scope="module")
def world(synthesized, full_release, sample_data_dir):
    """Both buckets filled and every principal made with moto's default credentials; then IAM is enforced for the
    whole module, and anything done as an administrator is done as a user whose policy allows everything."""
    _, template, _ = synthesized
    with moto_bucket(FUNCTIONS_BUCKET) as (_settings, store):
        full_release.copy_into(store)
        store.put("raw/streaming/netflix_titles.csv", b"show_id,title\n")
        etl_store = ObjectStore(ETL_BUCKET, store.client)
        etl_store.ensure_bucket()
        for path in sorted(p for p in Path(sample_data_dir).rglob("*") if p.is_file()):
            etl_store.put(f"raw/{path.relative_to(sample_data_dir).as_posix()}", path.read_bytes(), "text/csv")
        iam = boto3.client("iam", region_name="us-east-1")
        policies = {**{name: _policy(template, name, FUNCTIONS_BUCKET) for name in FUNCTIONS},
                    "etl": _policy(template, "etl", ETL_BUCKET), "admin": [ADMIN],
                    **{label: _policy(template, policy_of, FUNCTIONS_BUCKET, without)
                       for label, (_, policy_of, without) in CONTROLS.items()}}
        keys = {principal: _user(iam, principal, statements) for principal, statements in policies.items()}
        objects = {bucket: [o.key for o in ObjectStore(bucket, store.client).list("")]
                   for bucket in (FUNCTIONS_BUCKET, ETL_BUCKET)}
        with enable_iam_authentication():
            yield World(policies, keys, objects, full_release.objects)


Request = tuple[str, dict, dict | None]          # path, query parameters, JSON body of a POST


def _requests(release: dict[str, tuple[bytes, str]]) -> dict[tuple[str, str], list[Request]]:
    """Every route with values the release holds (the first answer of each slice, the most rated title, a movie
    title held once, every report), so that each answer is a 200."""
    manifest = json.loads(release[layout.MANIFEST][0])
    prefix = f"{layout.RELEASES}{manifest['release_id']}/"

    def answers(query: str) -> dict:
        return json.loads(release[prefix + layout.slice_object_name(query)][0])["answers"]

    def first(query: str) -> str:
        return next(iter(answers(query).values()))["name"]

    platform, year, unit = next(iter(answers("get_max_duration"))).split("|")
    actor_platform, actor_year = next(iter(answers("get_actor"))).split("|")
    scored_platform, scored_year = next(iter(answers("get_score_count"))).split("|")
    index = json.loads(release[prefix + layout.TITLE_INDEX][0])
    title = max((dict(zip(index["fields"], row, strict=True)) for row in index["rows"]),
                key=lambda row: row["rating_count"] or 0)
    movie = next(runtimes[0][0] for runtimes in answers("peliculas_duracion").values() if len(runtimes) == 1)
    reports = [name.removeprefix(layout.REPORTS_PREFIX) for name in manifest["objects"]
               if name.startswith(layout.REPORTS_PREFIX)]
    assert reports, "the release has reports"
    return {
        ("GET", "/max-duration"): [("/max-duration", {"platform": platform, "year": year, "duration_type": unit},
                                    None)],
        ("GET", "/score-count"): [("/score-count", {"platform": scored_platform, "scored": 1, "year": scored_year},
                                   None)],
        ("GET", "/count-platform"): [("/count-platform", {"platform": platform}, None)],
        ("GET", "/actor"): [("/actor", {"platform": actor_platform, "year": actor_year}, None)],
        ("GET", "/recommend"): [("/recommend", {"user_id": 1, "title_id": title["id"]}, None)],
        ("GET", "/users/{user_id}/recommendations"): [("/users/1/recommendations", {"n": 3}, None)],
        ("POST", "/recommendations"): [("/recommendations", {}, {"ratings": [{"title_id": title["id"], "rating": 5}]})],
        ("GET", "/movies/language"): [("/movies/language", {"idioma": next(iter(answers("peliculas_idioma")))}, None)],
        ("GET", "/movies/duration"): [("/movies/duration", {"pelicula": movie}, None)],
        ("GET", "/movies/franchise"): [("/movies/franchise", {"franquicia": first("franquicia")}, None)],
        ("GET", "/movies/country"): [("/movies/country", {"pais": first("peliculas_pais")}, None)],
        ("GET", "/movies/production-company"): [("/movies/production-company",
                                                 {"productora": first("productoras_exitosas")}, None)],
        ("GET", "/movies/director"): [("/movies/director", {"nombre_director": first("get_director")}, None)],
        ("GET", "/movies/recommendation"): [("/movies/recommendation", {"titulo": movie, "n": 3}, None)],
        ("GET", "/similar"): [("/similar", {"title_id": title["id"], "n": 3}, None)],
        ("GET", "/titles"): [("/titles", {"q": title["display_title"].split()[0]}, None)],
        ("GET", "/titles/{title_id}"): [(f"/titles/{title['id']}", {}, None)],
        ("GET", "/catalog"): [("/catalog", {}, None)],
        ("GET", "/reports"): [("/reports", {}, None)],
        ("GET", "/reports/{name}"): [(f"/reports/{name}", {}, None) for name in reports],
        ("GET", "/openapi.json"): [("/openapi.json", {}, None)],
        ("GET", "/docs"): [("/docs", {}, None)],
    }


def _routes(name: str) -> set[tuple[str, str]]:
    """The routes the function's handler declares (the docs function serves the combined app's document)."""
    if name == "docs":
        return {("GET", "/openapi.json"), ("GET", "/docs")}
    return {(method, route.path) for route in load_handler(name).fn.router.routes for method in route.methods}


def _answers(name: str, valid_requests: dict[tuple[str, str], list[Request]]) -> list[tuple[str, int, str]]:
    """(path, status, start of the body) of every request to every route of a cold function."""
    handler = load_handler(name).handler
    answered = []
    for route in sorted(_routes(name)):
        assert valid_requests[route], route
        for path, params, body in valid_requests[route]:
            response = handler(http_event(path, params, body), None)
            answered.append((path, response["statusCode"], response["body"][:300]))
    return answered


def _granted(name: str, key: str) -> bool:
    """Whether layout.READS gives the function this key of the bucket (the live manifest goes with any read)."""
    if not layout.READS[name]:
        return False
    return key == layout.MANIFEST or (key.startswith(layout.RELEASES) and layout.may_read(name, key.split("/", 2)[2]))


def _denied(call: Callable[[], object]) -> bool:
    try:
        call()
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "AccessDenied":
            return True
        raise
    return False


@pytest.fixture(scope="module")
def valid_requests(world) -> dict[tuple[str, str], list[Request]]:
    return _requests(world.release)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_answers_every_route_with_only_its_own_policy(world, valid_requests, monkeypatch, name):
    world.become(monkeypatch, name)
    answered = _answers(name, valid_requests)
    assert [(path, status) for path, status, _ in answered] == [(path, 200) for path, _, _ in answered], answered


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_may_read_only_its_own_objects_and_write_nothing(world, name):
    """Every object in the bucket, tried with the function's key: its own objects of the release and the live
    manifest are read, every other (another function's, a report, raw/) is AccessDenied; no write or delete."""
    s3 = world.client(name)
    readable = {key for key in world.objects[FUNCTIONS_BUCKET] if _granted(name, key)}
    denied = {key for key in world.objects[FUNCTIONS_BUCKET]
              if _denied(lambda key=key: s3.get_object(Bucket=FUNCTIONS_BUCKET, Key=key))}
    assert denied == set(world.objects[FUNCTIONS_BUCKET]) - readable
    reports = {key for key in world.objects[FUNCTIONS_BUCKET] if f"/{layout.REPORTS_PREFIX}" in key}
    assert "raw/streaming/netflix_titles.csv" in denied and reports <= (readable if name == "reports" else denied)
    own = next(iter(readable - {layout.MANIFEST}), layout.MANIFEST)
    for key in (layout.MANIFEST, own, "releases/x", "raw/x", "web/x", layout.ETL_LOCK):
        assert _denied(lambda key=key: s3.put_object(Bucket=FUNCTIONS_BUCKET, Key=key, Body=b"x")), key
    assert _denied(lambda: s3.delete_object(Bucket=FUNCTIONS_BUCKET, Key=own))
    listing = not _denied(lambda: s3.list_objects_v2(Bucket=FUNCTIONS_BUCKET, Prefix=layout.RELEASES))
    assert listing == bool(layout.READS[name]), "a function that reads may list names (a missing key is then a 404)"


@pytest.mark.parametrize("label", sorted(CONTROLS))
def test_without_its_grant_a_function_answers_503(world, valid_requests, monkeypatch, label):
    """The negative controls: the same run as above, with another function's policy or its own less one read
    grant, answers 503 on every route, so a grant that named the wrong object would fail the test above."""
    name, _, _ = CONTROLS[label]
    world.become(monkeypatch, label)
    answered = _answers(name, valid_requests)
    assert {status for _, status, _ in answered} == {503}, answered


def _as_the_stack_runs_the_etl(template, monkeypatch, **options) -> list[str]:
    """The task's command (the image's CMD) and environment as synthesised, its bucket the test's, and the event
    the state machine passes when the rule fires (its input, as JSON, in the container override), plus options."""
    [bucket_id] = template.find_resources("AWS::S3::Bucket", {"Properties": {"VersioningConfiguration": {}}})
    [container] = _etl_task(template)["ContainerDefinitions"]
    for variable in _resolve(container["Environment"], bucket_id, ETL_BUCKET):
        monkeypatch.setenv(variable["Name"], variable["Value"])
    [rule] = template.find_resources("AWS::Events::Rule").values()
    [target] = rule["Properties"]["Targets"]
    monkeypatch.setenv(EVENT_VARIABLE, json.dumps({**json.loads(target["Input"]), **options}))
    [command] = re.findall(r"^CMD (\[.*\])$", (REPO / "infra" / "etl.Dockerfile").read_text(), re.MULTILINE)
    python, dash_m, module, *arguments = json.loads(command)
    assert (python, dash_m, module) == ("python", "-m", "etl_job")
    return arguments


def test_the_etl_publishes_with_only_its_own_policy_and_writes_nowhere_else(world, synthesized, monkeypatch,
                                                                            capsys):
    """The ETL as the stack runs it (the task's command and environment, the rule's event, its data under raw/ of
    its bucket), with its task role's policy: it publishes, and every listing it makes is one its ListBucket
    condition allows (moto does not check the condition)."""
    world.become(monkeypatch, "etl", bucket=ETL_BUCKET)
    arguments = _as_the_stack_runs_the_etl(synthesized[1], monkeypatch, skip_training=True)  # models/ is releases/
    listed: list[str] = []
    plain = BaseClient._make_api_call

    def recorded(self, operation, params):
        if operation in ("ListObjectsV2", "ListObjects"):
            listed.append(params.get("Prefix", ""))
        return plain(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    assert etl_main(arguments) == 0
    printed = capsys.readouterr().out
    listings = listed[:]                     # the ETL's, not those of the checks below
    admin = world.client("admin")
    live = json.loads(admin.get_object(Bucket=ETL_BUCKET, Key=layout.MANIFEST)["Body"].read())
    assert f'"release_id": "{live["release_id"]}"' in printed, "the task prints the release it published"
    written = {o["Key"] for page in admin.get_paginator("list_objects_v2").paginate(Bucket=ETL_BUCKET)
               for o in page.get("Contents", [])}
    assert {f"{layout.RELEASES}{live['release_id']}/{name}" for name in live["objects"]} <= written

    [condition] = [s["Condition"]["StringLike"]["s3:prefix"] for s in world.policies["etl"]
                   if s["Action"] == "s3:ListBucket"]
    assert listings and [p for p in listings if not any(layout.grant_matches(c, p) for c in condition)] == [], \
        listings

    s3 = world.client("etl")
    raw = next(key for key in world.objects[ETL_BUCKET] if key.startswith("raw/"))
    for key in ("web/x", "raw/x", raw, "locks/other.json", "x"):
        assert _denied(lambda key=key: s3.put_object(Bucket=ETL_BUCKET, Key=key, Body=b"x")), key
    assert _denied(lambda: s3.delete_object(Bucket=ETL_BUCKET, Key=raw))
    assert admin.head_object(Bucket=ETL_BUCKET, Key=raw)["ContentLength"] > 0
    assert _denied(lambda: s3.get_object(Bucket=FUNCTIONS_BUCKET, Key=layout.MANIFEST)), "another bucket"
