"""Connectors, a GraphQL API and a WebSocket API deployed to the local cloud (the emulator over real HTTP): the
connectors' policies are created; AppSync and the API Gateway v2 WebSocket resources the emulator cannot create
are listed as skipped, never hidden, and the deploy succeeds."""

from __future__ import annotations

import textwrap

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context):\\n    return {'statusCode': 200}\\n"
    Connectors:
      ToQueue:
        Properties:
          Destination: {Id: Jobs}
          Permissions: [Write]
  Jobs:
    Type: AWS::SQS::Queue
  Notes:
    Type: AWS::Serverless::SimpleTable
  FnToNotes:
    Type: AWS::Serverless::Connector
    Properties:
      Source: {Id: Fn}
      Destination: {Id: Notes}
      Permissions: [Read]
  Graph:
    Type: AWS::Serverless::GraphQLApi
    Properties:
      SchemaInline: "type Query { note(id: ID!): String }"
      Auth: {Type: API_KEY}
      ApiKeys: {Key: {Description: k}}
      DataSources:
        Lambda:
          Compute: {FunctionArn: !GetAtt Fn.Arn}
      Functions:
        compute: {DataSource: Compute, Runtime: {Name: APPSYNC_JS, Version: 1.0.0}, InlineCode: "export function request(ctx) {}"}
      Resolvers:
        Query:
          note: {Pipeline: [compute]}
  Chat:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      Routes:
        $connect: {FunctionArn: !GetAtt Fn.Arn}
        send: {FunctionArn: !GetAtt Fn.Arn}
"""


def test_connectors_graphql_and_websocket_deploy_to_the_local_cloud(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    r = cli("--local", "--endpoint-url", aws.endpoint, "--output", "json", "deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["status"] == "CREATE_COMPLETE"
    summaries = [s for s in aws.client("cloudformation").list_stack_resources(StackName="app")[
        "StackResourceSummaries"] if s["LogicalResourceId"]]
    present = {s["LogicalResourceId"]: s["ResourceType"] for s in summaries}
    physical = {s["LogicalResourceId"]: s.get("PhysicalResourceId") for s in summaries}
    # the connectors' policies are created, attached to the function's role
    iam = aws.client("iam")
    for policy in ("FnToQueuePolicy", "FnToNotesPolicy", "GraphComputeLambdaDataSourceToLambdaConnectorPolicy"):
        assert present.get(policy) == "AWS::IAM::ManagedPolicy", policy
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=physical["FnRole"])[
        "AttachedPolicies"]}
    assert {physical["FnToQueuePolicy"], physical["FnToNotesPolicy"]} <= attached, attached
    # AppSync and the WebSocket routes are not emulated: listed as skipped, not hidden
    skipped = {s["logical_id"]: s["resource_type"] for s in result["skipped"]}
    assert skipped["Graph"] == "AWS::AppSync::GraphQLApi" and skipped["GraphQuerynote"] == "AWS::AppSync::Resolver"
    assert skipped["ChatConnectRoute"] == "AWS::ApiGatewayV2::Route"
    # ... and stand in the stack as placeholders (Ref and GetAtt of them resolve), never as real resources
    assert set(skipped) <= set(present)
    assert all("lamctl-placeholder" in physical[lid] for lid in skipped), {lid: physical[lid] for lid in skipped}
    assert set(result["placeholders"]) >= set(skipped)
    warnings = " ".join(x["message"] for x in r.json_lines() if x["type"] == "warning")
    assert "Graph" in warnings and "placeholder" in warnings
    # the WebSocket API record exists, but the local cloud serves no WebSocket endpoint: no URL is offered
    assert present["Chat"] == "AWS::ApiGatewayV2::Api"
    assert not [a for a in result["apis"] if a["api"] == "Chat"]
