"""The AWS target: deploy a stage to AWS Lambda through boto3 (plan, then execute)."""
