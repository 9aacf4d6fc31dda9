#!/usr/bin/env python3
"""mqttspec driver adapter for paho-mqtt 2.x (Python).

    python3 paho-python.py HOST PORT

Reads driver commands (JSON lines) on stdin and writes driver events (JSON
lines) on stdout, as docs/driver-protocol.md describes. Needs nothing but
paho-mqtt 2.x importable. Library messages go to stderr.
"""

import json
import os
import re
import sys
import threading

import paho.mqtt
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

OUT = threading.Lock()

# Driver names whose paho name is not the plain CamelCase form.
SPECIAL = {
    "user_properties": "UserProperty",
    "maximum_qos": "MaximumQoS",
}
REVERSE = {v: k for k, v in SPECIAL.items()}
BINARY = {"correlation_data", "authentication_data"}


def emit(event, **fields):
    fields = {"event": event, **fields}
    with OUT:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()


def camel(name):
    return SPECIAL.get(name) or "".join(p.capitalize() for p in name.split("_"))


def snake(name):
    return REVERSE.get(name) or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def to_props(packet_type, given):
    if not given:
        return None
    props = Properties(packet_type)
    for key, value in given.items():
        if key == "user_properties":
            value = [tuple(p) for p in value]
        elif key in BINARY:
            value = bytes.fromhex(value)
        setattr(props, camel(key), value)
    return props


def from_props(props):
    if props is None:
        return {}
    out = {}
    for name in props.names:
        if not hasattr(props, name):
            continue
        value = getattr(props, name)
        key = snake(name)
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).hex()
        elif key == "user_properties":
            value = [list(p) for p in value]
        out[key] = value
    return out


def code(rc):
    return rc.value if hasattr(rc, "value") else int(rc)


def payload_of(cmd):
    if "payload_hex" in cmd:
        return bytes.fromhex(cmd["payload_hex"])
    return cmd.get("payload", "").encode()


def payload_fields(data):
    try:
        return {"payload": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"payload_hex": data.hex()}


class Adapter:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.client = None
        self.v5 = False

    def connect(self, cmd):
        if self.client is not None:
            # A second connect reconnects the same client, keeping its session state.
            self.client.loop_stop()
            self.client.reconnect()
            self.client.loop_start()
            return
        self.v5 = cmd.get("protocol") == "5.0"
        kwargs = dict(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=cmd.get("client_id", ""),
            protocol=mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311,
            reconnect_on_failure=False,
        )
        if not self.v5:
            kwargs["clean_session"] = cmd.get("clean_start", True)
        c = mqtt.Client(**kwargs)
        c.enable_logger()
        c.on_connect = self.on_connect
        c.on_message = self.on_message
        c.on_subscribe = self.on_subscribe
        c.on_unsubscribe = self.on_unsubscribe
        c.on_publish = self.on_publish
        c.on_disconnect = self.on_disconnect
        if "username" in cmd:
            c.username_pw_set(cmd["username"], cmd.get("password"))
        will = cmd.get("will")
        if will:
            c.will_set(
                will["topic"],
                payload_of(will),
                will.get("qos", 0),
                will.get("retain", False),
                properties=to_props(PacketTypes.WILLMESSAGE, will.get("properties")) if self.v5 else None,
            )
        self.client = c
        extra = {}
        if self.v5:
            extra["clean_start"] = cmd.get("clean_start", True)
            extra["properties"] = to_props(PacketTypes.CONNECT, cmd.get("properties"))
        c.connect(self.host, self.port, keepalive=cmd.get("keep_alive", 60), **extra)
        c.loop_start()

    def subscribe(self, cmd):
        subs = []
        for s in cmd.get("subscriptions", []):
            if self.v5:
                opts = SubscribeOptions(
                    qos=s.get("qos", 0),
                    noLocal=s.get("no_local", False),
                    retainAsPublished=s.get("retain_as_published", False),
                    retainHandling=s.get("retain_handling", 0),
                )
                subs.append((s["filter"], opts))
            else:
                subs.append((s["filter"], s.get("qos", 0)))
        props = to_props(PacketTypes.SUBSCRIBE, cmd.get("properties")) if self.v5 else None
        rc, _ = self.client.subscribe(subs, properties=props)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            emit("error", message=f"subscribe: {mqtt.error_string(rc)}")

    def unsubscribe(self, cmd):
        props = to_props(PacketTypes.UNSUBSCRIBE, cmd.get("properties")) if self.v5 else None
        rc, _ = self.client.unsubscribe(cmd.get("filters", []), properties=props)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            emit("error", message=f"unsubscribe: {mqtt.error_string(rc)}")

    def publish(self, cmd):
        props = to_props(PacketTypes.PUBLISH, cmd.get("properties")) if self.v5 else None
        info = self.client.publish(
            cmd["topic"], payload_of(cmd), cmd.get("qos", 0), cmd.get("retain", False), properties=props
        )
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            emit("error", message=f"publish: {mqtt.error_string(info.rc)}")

    def disconnect(self, cmd):
        kwargs = {}
        if self.v5:
            if "reason_code" in cmd:
                kwargs["reasoncode"] = mqtt.ReasonCode(PacketTypes.DISCONNECT, identifier=cmd["reason_code"])
            kwargs["properties"] = to_props(PacketTypes.DISCONNECT, cmd.get("properties"))
        self.client.disconnect(**kwargs)

    # ---- library callbacks -> events

    def on_connect(self, client, userdata, flags, rc, props):
        emit("connected", session_present=bool(flags.session_present), reason_code=code(rc), properties=from_props(props))

    def on_message(self, client, userdata, msg):
        props = from_props(getattr(msg, "properties", None)) if self.v5 else {}
        try:
            topic = msg.topic
        except UnicodeDecodeError as e:
            # paho decodes the topic only when asked; report, keep the network thread alive.
            emit("error", message=f"message topic is not UTF-8: {e}")
            return
        emit("message", topic=topic, qos=msg.qos, retain=bool(msg.retain), properties=props, **payload_fields(msg.payload))

    def on_subscribe(self, client, userdata, mid, rcs, props):
        emit("subscribed", reason_codes=[code(r) for r in rcs], properties=from_props(props))

    def on_unsubscribe(self, client, userdata, mid, rcs, props):
        emit("unsubscribed", reason_codes=[code(r) for r in (rcs or [])], properties=from_props(props))

    def on_publish(self, client, userdata, mid, rc, props):
        emit("published", reason_code=code(rc))

    def on_disconnect(self, client, userdata, flags, rc, props):
        emit("disconnected", reason_code=code(rc), properties=from_props(props))


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: paho-python.py HOST PORT\n")
        sys.exit(2)
    import logging

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    adapter = Adapter(sys.argv[1], int(sys.argv[2]))
    emit(
        "hello",
        library="paho-mqtt",
        version=paho.mqtt.__version__,
        protocols=["3.1.1", "5.0"],
        capabilities=[
            "qos1", "qos2", "retain", "will", "credentials", "keep_alive", "session",
            "unsubscribe", "empty_client_id", "properties", "user_properties",
            "subscription_options", "topic_alias_send",
        ],
    )
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            name = cmd.get("cmd")
            if name == "exit":
                break
            handler = getattr(adapter, name, None) if name in ("connect", "subscribe", "unsubscribe", "publish", "disconnect") else None
            if handler is None:
                emit("error", message=f"unknown command {name!r}")
                continue
            if name != "connect" and adapter.client is None:
                emit("error", message=f"{name} before connect")
                continue
            handler(cmd)
        except Exception as e:  # the library's own message, for the transcript
            emit("error", message=f"{type(e).__name__}: {e}")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
