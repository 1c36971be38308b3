{{/* The six subgraphs, in the gateway's order (gateway/src/subgraphs.ts). */}}
{{- define "crm.subgraphNames" -}}
["customers", "sales", "service-desk", "marketing", "analytics", "admin"]
{{- end }}

{{/* Every component: the gateway and the subgraphs. */}}
{{- define "crm.componentNames" -}}
["gateway", "customers", "sales", "service-desk", "marketing", "analytics", "admin"]
{{- end }}

{{/*
Secret keys each component reads (secretKeyRef), beside MONGO_URL which every subgraph reads.
Optional ones are referenced with optional: true (the _PREVIOUS ones hold a replaced secret during a
rotation: infra/README.md, Rotate secrets).
*/}}
{{- define "crm.secretKeys" -}}
{
  "gateway": {"required": [], "optional": []},
  "customers": {"required": ["GATEWAY_SECRET", "CUSTOMER_PII_KEY", "CUSTOMER_PII_HASH_KEY"], "optional": ["GATEWAY_SECRET_PREVIOUS", "CUSTOMER_PII_PREVIOUS_KEYS", "PERSONAL_DATA_SECRET_PREVIOUS"]},
  "sales": {"required": ["GATEWAY_SECRET"], "optional": ["GATEWAY_SECRET_PREVIOUS", "PERSONAL_DATA_SECRET_PREVIOUS"]},
  "service-desk": {"required": ["GATEWAY_SECRET"], "optional": ["GATEWAY_SECRET_PREVIOUS"]},
  "marketing": {"required": ["GATEWAY_SECRET"], "optional": ["GATEWAY_SECRET_PREVIOUS", "SMTP_URL"]},
  "analytics": {"required": ["GATEWAY_SECRET"], "optional": ["GATEWAY_SECRET_PREVIOUS"]},
  "admin": {"required": ["GATEWAY_SECRET", "KEYCLOAK_ADMIN_CLIENT_SECRET"], "optional": ["GATEWAY_SECRET_PREVIOUS"]}
}
{{- end }}

{{/* The required Secret keys of a component: its own, and PERSONAL_DATA_SECRET where it seals or opens personal data. */}}
{{- define "crm.requiredSecretKeys" -}}
{{- $keys := (index (include "crm.secretKeys" . | fromJson) .name).required }}
{{- if has .name .root.Values.personalData.services }}
{{- $keys = append $keys "PERSONAL_DATA_SECRET" }}
{{- end }}
{{- toJson $keys }}
{{- end }}

{{/* The base URL another service reaches an owner of personal-data keys at. (dict "root" $ "name" "customers") */}}
{{- define "crm.serviceBaseUrl" -}}
{{- include "crm.subgraphUrl" . | trimSuffix "/graphql" }}
{{- end }}

{{/* Names that must only ever come from a Secret: refused in services.<name>.env. */}}
{{- define "crm.secretNamePattern" -}}
^(MONGO_URL|SMTP_URL|GATEWAY_SECRET|PERSONAL_DATA_SECRET|KEYCLOAK_ADMIN_CLIENT_SECRET|CUSTOMER_PII_.*|SUBGRAPH_.*_SECRET|.*(PASSWORD|TOKEN).*)$
{{- end }}

{{- define "crm.name" -}}
{{- default "crm" .Values.nameOverride | trunc 40 | trimSuffix "-" }}
{{- end }}

{{/* Object name prefix: fullnameOverride, else the release name. Components append -<name>. */}}
{{- define "crm.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 48 | trimSuffix "-" }}
{{- end }}

{{- define "crm.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object of the release. */}}
{{- define "crm.labels" -}}
helm.sh/chart: {{ include "crm.chart" . }}
app.kubernetes.io/name: {{ include "crm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: crm
{{- end }}

{{/* Selects every pod of the release. */}}
{{- define "crm.releaseSelector" -}}
app.kubernetes.io/name: {{ include "crm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* (dict "root" $ "name" "sales") */}}
{{- define "crm.componentLabels" -}}
{{ include "crm.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "crm.selectorLabels" -}}
{{ include "crm.releaseSelector" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "crm.componentFullname" -}}
{{- printf "%s-%s" (include "crm.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* `service-desk` → `SERVICE_DESK` (gateway/src/subgraphs.ts envStem). */}}
{{- define "crm.envStem" -}}
{{- . | upper | replace "-" "_" }}
{{- end }}

{{/* The Secret a component reads: its existingSecret, else <fullname>-<name> (chart-made or yours). */}}
{{- define "crm.secretName" -}}
{{- $svc := index .root.Values.services .name }}
{{- default (include "crm.componentFullname" .) $svc.existingSecret }}
{{- end }}

{{/* Whether the chart renders this component's Secret. */}}
{{- define "crm.createsSecret" -}}
{{- $svc := index .root.Values.services .name }}
{{- if and .root.Values.secrets.create $svc.enabled (not $svc.existingSecret) }}true{{ end }}
{{- end }}

{{- define "crm.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "crm.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "crm.image" -}}
{{- $img := .root.Values.image }}
{{- printf "%s%s/%s:%s" $img.registry $img.namespace .name (default .root.Chart.AppVersion $img.tag) }}
{{- end }}

{{/* The URL the gateway calls a subgraph at: its in-cluster Service, or externalUrl when it runs elsewhere. */}}
{{- define "crm.subgraphUrl" -}}
{{- $svc := index .root.Values.services .name }}
{{- if $svc.enabled }}
{{- printf "http://%s:%v/graphql" (include "crm.componentFullname" .) $svc.port }}
{{- else }}
{{- required (printf "services.%s is disabled: set services.%s.externalUrl to where it runs (the gateway, and services that fetch personal-data keys, call it there)" .name .name) $svc.externalUrl }}
{{- end }}
{{- end }}

{{/* Port of a subgraph's externalUrl (explicit, else 443 for https, 80 for http). */}}
{{- define "crm.externalPort" -}}
{{- $u := urlParse . }}
{{- $port := regexFind ":[0-9]+$" $u.host | trimPrefix ":" }}
{{- if $port }}{{ $port }}{{ else if eq $u.scheme "https" }}443{{ else }}80{{ end }}
{{- end }}

{{/* Seconds Kubernetes waits after starting the preStop hook before SIGKILL. */}}
{{- define "crm.terminationGraceSeconds" -}}
{{- $s := .Values.shutdown }}
{{- add $s.preStopSeconds (div (add (int $s.graceMs) 999) 1000) $s.marginSeconds }}
{{- end }}

{{/*
Non-secret environment of a component (its ConfigMap's data). (dict "root" $ "name" "sales")
*/}}
{{- define "crm.envData" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $svc := index $v.services .name }}
{{- $env := dict
  "NODE_ENV" $v.nodeEnv
  "LOG_LEVEL" $v.logLevel
  "HOST" "0.0.0.0"
  "PORT" (toString $svc.port)
  "KAFKA_BROKERS" $v.kafka.brokers
  "KAFKA_CLIENT_ID" .name
  "KAFKA_TOPIC_PREFIX" $v.kafka.topicPrefix
  "KAFKA_REPLICATION_FACTOR" (toString $v.kafka.replicationFactor)
  "KAFKA_MIN_INSYNC_REPLICAS" (toString $v.kafka.minInsyncReplicas)
  "KAFKA_PARTITIONS" (toString $v.kafka.partitions)
  "KEYCLOAK_URL" $v.keycloak.url
  "KEYCLOAK_REALM" $v.keycloak.realm
  "KEYCLOAK_AUDIENCE" $v.keycloak.audience
}}
{{- if and $v.keycloak.publicUrl (ne .name "gateway") }}
{{- $_ := set $env "KEYCLOAK_PUBLIC_URL" $v.keycloak.publicUrl }}
{{- end }}
{{- if $v.telemetry.otlpEndpoint }}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" $v.telemetry.otlpEndpoint }}
{{- end }}
{{- if eq .name "gateway" }}
{{- $_ := set $env "KEYCLOAK_PUBLIC_URL" (default $v.keycloak.url $v.keycloak.publicUrl) }}
{{- $_ := set $env "CORS_ORIGINS" $svc.corsOrigins }}
{{- $_ := set $env "TRUST_PROXY" (toString $svc.trustProxy) }}
{{- $_ := set $env "SUPERGRAPH_PATH" (printf "%s/supergraph.graphql" $svc.supergraph.mountPath) }}
{{- $_ := set $env "SUPERGRAPH_POLL_MS" (toString $svc.supergraph.pollMs) }}
{{- range $sub := include "crm.subgraphNames" . | fromJsonArray }}
{{- $_ := set $env (printf "SUBGRAPH_%s_URL" (include "crm.envStem" $sub)) (include "crm.subgraphUrl" (dict "root" $root "name" $sub)) }}
{{- end }}
{{- else }}
{{- $_ := set $env "MONGO_DB" $svc.mongoDb }}
{{- $_ := set $env "MONGO_WRITE_CONCERN" (toString $v.mongodb.writeConcern) }}
{{- $_ := set $env "MONGO_JOURNAL" (toString $v.mongodb.journal) }}
{{- with $v.mongodb.writeTimeoutMs }}
{{- $_ := set $env "MONGO_WRITE_TIMEOUT_MS" (toString .) }}
{{- end }}
{{- $_ := set $env "SHUTDOWN_GRACE_MS" (toString $v.shutdown.graceMs) }}
{{- if has .name $v.personalData.services }}
{{- $sources := list }}
{{- range $entity, $owner := $v.personalData.owners }}
{{- $sources = append $sources (printf "%s=%s" $entity (include "crm.serviceBaseUrl" (dict "root" $root "name" $owner))) }}
{{- end }}
{{- $_ := set $env "PERSONAL_DATA_KEY_SOURCES" (join "," $sources) }}
{{- end }}
{{- end }}
{{- range $key, $value := $svc.env }}
{{- if regexMatch (include "crm.secretNamePattern" $) $key }}
{{- fail (printf "services.%s.env.%s looks secret: put it in a Secret and reference it from services.%s.extraEnv (valueFrom.secretKeyRef)" $.name $key $.name) }}
{{- end }}
{{- $_ := set $env $key (toString $value) }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{/* The data of a chart-made Secret (base64 values). (dict "root" $ "name" "sales") */}}
{{- define "crm.secretData" -}}
{{- $v := .root.Values }}
{{- $svc := index $v.services .name }}
{{- $data := dict }}
{{- if eq .name "gateway" }}
{{- range $sub := include "crm.subgraphNames" . | fromJsonArray }}
{{- $value := (index $v.services $sub).secretValues.GATEWAY_SECRET }}
{{- if lt (len $value) 24 }}
{{- fail (printf "services.%s.secretValues.GATEWAY_SECRET: at least 24 characters (the gateway's Secret holds it as SUBGRAPH_%s_SECRET)" $sub (include "crm.envStem" $sub)) }}
{{- end }}
{{- $_ := set $data (printf "SUBGRAPH_%s_SECRET" (include "crm.envStem" $sub)) ($value | b64enc) }}
{{- end }}
{{- else }}
{{- if not (or $svc.mongoUrlSecret.name $v.mongodb.existingSecret) }}
{{- $_ := set $data "MONGO_URL" (required "secrets.create: set mongodb.url (or mongodb.existingSecret)" $v.mongodb.url | b64enc) }}
{{- end }}
{{- $keys := index (include "crm.secretKeys" . | fromJson) .name }}
{{- range $key := $keys.required }}
{{- $_ := set $data $key (required (printf "secrets.create: set services.%s.secretValues.%s" $.name $key) (index $svc.secretValues $key) | b64enc) }}
{{- end }}
{{- if has .name $v.personalData.services }}
{{- if lt (len $v.personalData.secret) 24 }}
{{- fail "secrets.create: personalData.secret, at least 24 characters" }}
{{- end }}
{{- $_ := set $data "PERSONAL_DATA_SECRET" ($v.personalData.secret | b64enc) }}
{{- end }}
{{- range $key := $keys.optional }}
{{- with index $svc.secretValues $key }}
{{- $_ := set $data $key (. | b64enc) }}
{{- end }}
{{- end }}
{{- if lt (len $svc.secretValues.GATEWAY_SECRET) 24 }}
{{- fail (printf "services.%s.secretValues.GATEWAY_SECRET: at least 24 characters" .name) }}
{{- end }}
{{- if eq .name "customers" }}
{{- range $key := list "CUSTOMER_PII_KEY" "CUSTOMER_PII_HASH_KEY" }}
{{- if ne (len (index $svc.secretValues $key | b64dec)) 32 }}
{{- fail (printf "services.customers.secretValues.%s: 32 random bytes, base64 (openssl rand -base64 32)" $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/* An egress rule to a subgraph: its pods here, or where it runs elsewhere. (dict "root" $root "name" "sales" "why" "...") */}}
{{- define "crm.egressToSubgraph" }}
{{- $root := .root }}
{{- $sub := .name }}
{{- $subSvc := index $root.Values.services $sub }}
{{- if $subSvc.enabled }}
    # {{ .why }} {{ $sub }}.
    - ports: [{ port: {{ $subSvc.port }}, protocol: TCP }]
      to:
        - podSelector:
            matchLabels:
              {{- include "crm.selectorLabels" (dict "root" $root "name" $sub) | nindent 14 }}
{{- else }}
    # {{ .why }} {{ $sub }}, running elsewhere ({{ $subSvc.externalUrl }}).
    - ports: [{ port: {{ include "crm.externalPort" (include "crm.subgraphUrl" (dict "root" $root "name" $sub)) }}, protocol: TCP }]
      to:
        {{- if $subSvc.externalTo }}
        {{- toYaml $subSvc.externalTo | nindent 8 }}
        {{- else }}
        - namespaceSelector: {}
          podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ include "crm.name" $root }}
              app.kubernetes.io/component: {{ $sub }}
        {{- end }}
{{- end }}
{{- end }}
