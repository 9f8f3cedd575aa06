"""The real template.yaml (and its nested templates) as local resources.

Physical names are the logical ids, so `!Ref UsersTable` resolves to `UsersTable`
locally; ARNs use the local account and region.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.cfn import Resolver, load_template

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
LOCAL_PARAMETER_OVERRIDES: dict[str, Any] = {}


@dataclass
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout: int
    memory: int
    events: dict[str, Any] = field(default_factory=dict)
    stack: Stack | None = None

    @property
    def module_file(self) -> Path:
        module, _ = self.handler.rsplit(".", 1)
        return self.code_dir / (module.replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.logical_id}"


@dataclass
class WebSocketApiSpec:
    logical_id: str
    route_selection_expression: str
    routes: dict[str, str]  # route key → function logical id
    stage: str

    def select_route(self, body: str) -> str | None:
        """API Gateway's route selection: `$request.body.<path>` on a JSON body, else $default."""
        expression = self.route_selection_expression
        if expression.startswith("$request.body."):
            try:
                value: Any = json.loads(body)
                for part in expression[len("$request.body.") :].split("."):
                    value = value.get(part) if isinstance(value, dict) else None
            except (json.JSONDecodeError, TypeError):
                value = None
            if isinstance(value, str) and value in self.routes:
                return value
        return "$default" if "$default" in self.routes else None


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Stack:
    def __init__(self, template_path: Path, parameters: dict[str, Any] | None = None, name: str = "stratus"):
        self.template_path = Path(template_path)
        self.root = self.template_path.parent
        self.name = name
        self.template = load_template(self.template_path)
        self.resources: dict[str, dict[str, Any]] = self.template.get("Resources", {})
        declared = self.template.get("Parameters", {})
        self.parameters = {k: v.get("Default") for k, v in declared.items()}
        self.parameters.update({k: v for k, v in (parameters or {}).items() if k in declared})
        self.nested: dict[str, Stack] = {}
        self.resolver = Resolver(
            self.parameters,
            {logical_id: self._ref(logical_id) for logical_id in self.resources},
            self.attribute,
            {
                "AWS::Region": REGION,
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::StackName": name,
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::Partition": "aws",
            },
        )
        for logical_id, resource in self.resources.items():
            if resource["Type"] == "AWS::Serverless::Application":
                props = resource.get("Properties", {})
                child_params = self.resolver.resolve(props.get("Parameters", {}))
                self.nested[logical_id] = Stack(
                    self.root / props["Location"], child_params, name=f"{name}-{logical_id}"
                )

    # --- names and attributes -----------------------------------------------------
    def _ref(self, logical_id: str) -> str:
        """What `!Ref` gives: a name for most resources, the ARN for a state machine."""
        if self.resources[logical_id]["Type"] in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            return self.attribute(logical_id, "Arn")
        return self.physical_name(logical_id)

    def physical_name(self, logical_id: str) -> str:
        """Local names: a resource's own Name property when it sets one, else its logical id."""
        resource = self.resources[logical_id]
        kind = resource["Type"]
        if kind == "AWS::S3::Bucket":
            return f"{self.name}-{logical_id}".lower()
        if kind == "AWS::KMS::Key":
            return f"alias/{logical_id}"  # KMS accepts an alias wherever AWS's !Ref gives the key id
        if kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            name = resource.get("Properties", {}).get("Name")
            if isinstance(name, dict) and "Fn::Sub" in name and isinstance(name["Fn::Sub"], str):
                return name["Fn::Sub"].replace("${AWS::StackName}", self.name)
            if isinstance(name, str):
                return name
        return logical_id

    def attribute(self, logical_id: str, attribute: str) -> Any:
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        if attribute.startswith("Outputs."):
            return self.nested[logical_id].output(attribute.split(".", 1)[1])
        if kind == "AWS::DynamoDB::Table":
            arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
            return {"Arn": arn, "StreamArn": f"{arn}/stream/local"}[attribute]
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
        if kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            return {"Arn": f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}", "Name": name}[attribute]
        if kind == "AWS::S3::Bucket":
            return {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}[attribute]
        if kind == "AWS::KMS::Key":
            return {"Arn": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:{name}", "KeyId": name}[attribute]
        if kind == "AWS::SQS::Queue":
            return {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"}[attribute]
        return f"arn:aws:local:{REGION}:{ACCOUNT_ID}:{logical_id}"

    def output(self, name: str) -> Any:
        return self.resolver.resolve(self.template["Outputs"][name]["Value"])

    # --- resources by kind --------------------------------------------------------
    def of_type(self, *kinds: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] in kinds}

    def all_stacks(self) -> list[Stack]:
        stacks = [self]
        for child in self.nested.values():
            stacks.extend(child.all_stacks())
        return stacks

    def functions(self) -> dict[str, FunctionSpec]:
        """Every function of this stack and its nested stacks, with Globals applied."""
        found: dict[str, FunctionSpec] = {}
        for stack in self.all_stacks():
            found.update(stack._own_functions())
        return found

    def _own_functions(self) -> dict[str, FunctionSpec]:
        defaults = self.template.get("Globals", {}).get("Function", {})
        found = {}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = _merge(defaults, resource.get("Properties", {}))
            env = self.resolver.resolve(props.get("Environment", {}).get("Variables", {}))
            found[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_dir=(self.root / props["CodeUri"]).resolve(),
                handler=props["Handler"],
                environment={k: str(v) for k, v in env.items()},
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                events=props.get("Events", {}),
                stack=self,
            )
        return found

    def tables(self) -> dict[str, dict[str, Any]]:
        found = {}
        for stack in self.all_stacks():
            for logical_id, resource in stack.of_type("AWS::DynamoDB::Table").items():
                found[stack.physical_name(logical_id)] = stack.resolver.resolve(resource["Properties"])
        return found

    def kms_aliases(self) -> list[str]:
        return [
            stack.physical_name(logical_id)
            for stack in self.all_stacks()
            for logical_id in stack.of_type("AWS::KMS::Key")
        ]

    def buckets(self) -> list[str]:
        return [
            stack.physical_name(logical_id)
            for stack in self.all_stacks()
            for logical_id in stack.of_type("AWS::S3::Bucket")
        ]

    def websocket_apis(self) -> list[WebSocketApiSpec]:
        apis = []
        for stack in self.all_stacks():
            apis.extend(stack._own_websocket_apis())
        return apis

    def _own_websocket_apis(self) -> list[WebSocketApiSpec]:
        found = []
        for api_id, api in self.of_type("AWS::ApiGatewayV2::Api").items():
            if api["Properties"].get("ProtocolType") != "WEBSOCKET":
                continue
            integrations = {}
            for logical_id, resource in self.of_type("AWS::ApiGatewayV2::Integration").items():
                uri = resource["Properties"].get("IntegrationUri", {})
                text = uri.get("Fn::Sub", "") if isinstance(uri, dict) else str(uri)
                match = re.search(r"\$\{(\w+)\.Arn\}", text if isinstance(text, str) else text[0])
                if match:
                    integrations[logical_id] = match.group(1)
            routes = {}
            for resource in self.of_type("AWS::ApiGatewayV2::Route").values():
                props = resource["Properties"]
                if props.get("ApiId") != {"Ref": api_id}:
                    continue
                target = self.resolver.resolve(props.get("Target", ""))
                integration_id = str(target).split("/")[-1]
                if integration_id in integrations:
                    routes[props["RouteKey"]] = integrations[integration_id]
            stages = [
                self.resolver.resolve(r["Properties"]["StageName"])
                for r in self.of_type("AWS::ApiGatewayV2::Stage").values()
                if r["Properties"].get("ApiId") == {"Ref": api_id}
            ]
            found.append(
                WebSocketApiSpec(
                    logical_id=api_id,
                    route_selection_expression=api["Properties"].get(
                        "RouteSelectionExpression", "$request.body.action"
                    ),
                    routes=routes,
                    stage=stages[0] if stages else "$default",
                )
            )
        return found

    def state_machines(self) -> dict[str, dict[str, Any]]:
        """Name → {definition (substitutions applied), role} for every state machine."""
        found = {}
        for stack in self.all_stacks():
            for logical_id, resource in stack.of_type("AWS::Serverless::StateMachine").items():
                props = resource["Properties"]
                if "DefinitionUri" in props:
                    text = (stack.root / props["DefinitionUri"]).read_text()
                else:
                    text = json.dumps(props["Definition"])
                substitutions = stack.resolver.resolve(props.get("DefinitionSubstitutions", {}))
                for key, value in substitutions.items():
                    text = text.replace("${" + key + "}", str(value))
                found[stack.physical_name(logical_id)] = {"definition": text, "type": props.get("Type", "STANDARD")}
        return found

    def http_routes(self) -> list[tuple[str, str, str]]:
        """(method, path, function logical id) for every HttpApi event in the template."""
        routes = []
        for spec in self.functions().values():
            for event in spec.events.values():
                if event.get("Type") == "HttpApi":
                    props = event.get("Properties", {})
                    routes.append((props.get("Method", "ANY").upper(), props.get("Path", "$default"), spec.logical_id))
        return routes
