"""The schema accepts exactly what the transform accepts: validate must not reject a template that lamctl can
deploy, nor pass one the transform will refuse. Compared by property names, type by type."""

from __future__ import annotations


from lamctl.schemas.validate import sam_schema

from lamctl.transform import function as transform


def accepted(def_name: str) -> set[str]:
    schema = sam_schema()["$defs"][def_name]
    if "anyOf" in schema:
        schema = next(b for b in schema["anyOf"] if "properties" in b)
    return set(schema["properties"])


def test_function_properties():
    from lamctl.transform.function import PROPERTIES

    assert accepted("AWS::Serverless::Function") == set(PROPERTIES)


def test_layer_and_table_properties():
    from lamctl.transform.layers import LAYER_PROPERTIES, TABLE_PROPERTIES

    assert accepted("AWS::Serverless::LayerVersion") == set(LAYER_PROPERTIES)
    assert accepted("AWS::Serverless::SimpleTable") == set(TABLE_PROPERTIES)


def test_api_properties():
    from lamctl.transform.api import HTTP_TYPE, PROPERTY_TYPES, REST_TYPE

    assert accepted("AWS::Serverless::Api") == set(PROPERTY_TYPES[REST_TYPE])
    assert accepted("AWS::Serverless::HttpApi") == set(PROPERTY_TYPES[HTTP_TYPE])
    assert accepted("event.Api") == set(PROPERTY_TYPES["Api"])
    assert accepted("event.HttpApi") == set(PROPERTY_TYPES["HttpApi"])


def test_event_types():
    from lamctl.transform.events import HANDLERS

    assert set(sam_schema()["$defs"]["event"]["properties"]["Type"]["enum"]) == set(HANDLERS) | {"Api", "HttpApi"}


def test_globals_keys():
    from lamctl.transform.globals import SUPPORTED

    for section in ("Function", "Api", "HttpApi", "SimpleTable", "LayerVersion", "StateMachine", "CapacityProvider",
                    "WebSocketApi"):
        assert accepted(f"Globals.{section}") == set(SUPPORTED[section]), section


def test_state_machine_properties_and_events():
    from lamctl.transform.state_machine import EVENT_TYPES, PROPERTIES

    assert accepted("AWS::Serverless::StateMachine") == set(PROPERTIES)
    event_type = sam_schema()["$defs"]["stateMachineEvent"]["properties"]["Type"]
    assert set(event_type["enum"]) == set(EVENT_TYPES) and not event_type["x-unsupported"]
    from lamctl.transform.api import PROPERTY_TYPES

    assert accepted("stateMachineEvent.Api") == set(PROPERTY_TYPES["StateMachineApi"])
    assert "AWS::Serverless::StateMachine" not in sam_schema()["$defs"]["resource"]["properties"]["Type"][
        "x-unsupported"]


def test_capacity_provider_properties():
    from lamctl.transform.capacity_provider import PROPERTIES

    assert accepted("AWS::Serverless::CapacityProvider") == set(PROPERTIES)


def test_application_properties():
    from lamctl.transform.application import APPLICATION_PROPERTIES

    assert accepted("AWS::Serverless::Application") == set(APPLICATION_PROPERTIES)


def test_connector_graphql_and_websocket_properties():
    from lamctl.transform import connectors, graphql, websocket

    assert accepted("AWS::Serverless::Connector") == set(connectors.PROPERTIES)
    assert accepted("AWS::Serverless::GraphQLApi") == set(graphql.PROPERTIES)
    assert accepted("AWS::Serverless::WebSocketApi") == set(websocket.PROPERTIES)
    unsupported = sam_schema()["$defs"]["resource"]["properties"]["Type"]["x-unsupported"]
    assert not {connectors.TYPE, graphql.TYPE, websocket.TYPE} & set(unsupported)
    assert "Connectors" in sam_schema()["$defs"]["resource"]["properties"]
