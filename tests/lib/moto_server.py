"""An S3 server that checks SigV4 signatures, for tests: moto's server mode
(scripts/requirements.txt pins moto[server]) on 127.0.0.1 and a port the kernel
picks. Run by tests/lib/moto.sh; see there.

    moto_server.py BUCKET...

Sets up while authentication is still off (moto's default: every request is
let through): an IAM user with an allow-all policy and an access key, and the
buckets. Then turns authentication on for every later request (POST
/moto-api/reset-auth 0, what moto.core.set_initial_no_auth_action_count(0) does
in server mode), so a request signed with any other secret gets 403
SignatureDoesNotMatch and an unknown key id 403 InvalidAccessKeyId. Prints
shell assignments (MOTO_PORT, MOTO_ACCESS_KEY_ID, MOTO_SECRET_ACCESS_KEY), one
per line, then "ready", and serves until it is killed.
"""

import json
import signal
import sys
import urllib.request

import boto3
from moto.server import ThreadedMotoServer


def main() -> int:
    buckets = sys.argv[1:] or ["forja-test"]
    server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    endpoint = f"http://127.0.0.1:{port}"
    setup = {"endpoint_url": endpoint, "region_name": "us-east-1",
             "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}

    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="forja-test")
    iam.put_user_policy(UserName="forja-test", PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="forja-test")["AccessKey"]
    s3 = boto3.client("s3", **setup)
    for b in buckets:
        s3.create_bucket(Bucket=b)

    req = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req) as r:
        r.read()

    print(f"MOTO_PORT={port}")
    print(f"MOTO_ACCESS_KEY_ID={key['AccessKeyId']}")
    print(f"MOTO_SECRET_ACCESS_KEY={key['SecretAccessKey']}")
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sys.exit(main())
