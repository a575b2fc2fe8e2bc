"""The Python each step of the training pipeline runs (Argo `script` templates), in the MLflow image.

Steps talk through Argo output parameters (small values) and MLflow (everything else): the features
are artifacts of the pipeline's MLflow run, so the TrainJob reads them through MLflow's artifact proxy
and needs no AWS identity; the TrainJob logs its metrics and model into that same run (MLFLOW_RUN_ID).
Inputs arrive as environment variables the template sets from the workflow's parameters; each step
works in STEP_DIR, an emptyDir (the root file system is read-only).
"""

INGEST = '''
import json, os, boto3
step = os.environ["STEP_DIR"]
bucket, prefix = os.environ["DATASETS_BUCKET"], os.environ["DATASET_PREFIX"].strip("/") + "/"
pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
objects = [{"key": o["Key"], "size": o["Size"], "etag": o["ETag"]} for page in pages for o in page.get("Contents", [])]
os.makedirs(f"{step}/outputs", exist_ok=True)
with open(f"{step}/outputs/manifest.json", "w") as out:
    json.dump({"bucket": bucket, "prefix": prefix, "objects": objects}, out)
print(f"{len(objects)} objects under s3://{bucket}/{prefix}")
'''

VALIDATE = '''
import json, os, sys
manifest = json.load(open(os.environ["STEP_DIR"] + "/inputs/manifest.json"))
empty = [o["key"] for o in manifest["objects"] if o["size"] == 0]
if not manifest["objects"]:
    sys.exit(f"no objects under s3://{manifest['bucket']}/{manifest['prefix']}: nothing to train on")
if empty:
    sys.exit(f"{len(empty)} empty objects, first {empty[0]}: the ingest is incomplete")
print(f"{len(manifest['objects'])} objects, {sum(o['size'] for o in manifest['objects'])} bytes")
'''

FEATURES = '''
import json, os, boto3, mlflow
step = os.environ["STEP_DIR"]
manifest = json.load(open(f"{step}/inputs/manifest.json"))
s3, out = boto3.client("s3"), f"{step}/features"
os.makedirs(out, exist_ok=True)
for obj in manifest["objects"]:
    target = os.path.join(out, os.path.relpath(obj["key"], manifest["prefix"]))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    s3.download_file(manifest["bucket"], obj["key"], target)
mlflow.set_experiment(os.environ["MODEL_NAME"])
with mlflow.start_run(run_name=os.environ["WORKFLOW_NAME"]) as run:
    mlflow.log_params({"dataset_prefix": manifest["prefix"], "objects": len(manifest["objects"])})
    mlflow.log_artifacts(out, artifact_path="features")
os.makedirs(f"{step}/outputs", exist_ok=True)
open(f"{step}/outputs/run-id", "w").write(run.info.run_id)
'''

EVALUATE = '''
import os, sys, mlflow
run = mlflow.MlflowClient().get_run(os.environ["RUN_ID"])
metric, threshold = os.environ["METRIC"], float(os.environ["METRIC_THRESHOLD"])
value = run.data.metrics.get(metric)
if value is None:
    sys.exit(f"run {run.info.run_id} logged no metric '{metric}'")
if value < threshold:
    sys.exit(f"{metric} {value} is below the threshold {threshold}: not registered")
print(f"{metric} {value} >= {threshold}")
'''

REGISTER = '''
import os, boto3, mlflow
name, alias, run_id = os.environ["MODEL_NAME"], os.environ["ALIAS"], os.environ["RUN_ID"]
version = mlflow.register_model(f"runs:/{run_id}/model", name).version
client = mlflow.MlflowClient()
local = mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=os.environ["STEP_DIR"] + "/model")
s3, bucket, prefix = boto3.client("s3"), os.environ["ARTIFACTS_BUCKET"], os.environ["EXPORT_PREFIX"]
stale = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/{name}/{alias}/")
for page in stale:  # the alias folder holds exactly the version it names
    for obj in page.get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=obj["Key"])
for ref in (str(version), alias):  # what serving reads: models:/NAME/VERSION and mlflow://NAME@ALIAS
    for root, _, files in os.walk(local):
        for file in files:
            path = os.path.join(root, file)
            s3.upload_file(path, bucket, f"{prefix}/{name}/{ref}/{os.path.relpath(path, local)}")
# Which version the alias folder holds: a serving replica's weight cache compares it with its copy.
s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}/{alias}/VERSION", Body=str(version).encode())
client.set_registered_model_alias(name, alias, version)
print(f"{name} version {version} registered as @{alias}")
'''
