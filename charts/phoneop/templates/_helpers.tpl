{{/* fullname prefixes every object: "phoneop" for a release named phoneop, as in config/default. */}}
{{- define "phoneop.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "phoneop.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- end -}}

{{- define "phoneop.labels" -}}
{{ include "phoneop.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "phoneop.serviceAccountName" -}}
{{- default (printf "%s-controller-manager" (include "phoneop.fullname" .)) .Values.serviceAccount.name -}}
{{- end -}}

{{/* credentialsNamespace: where EntraTenant credential Secrets are read. */}}
{{- define "phoneop.credentialsNamespace" -}}
{{- default .Release.Namespace .Values.credentialsNamespace -}}
{{- end -}}

{{/*
rbacNamespaces: with watchNamespaces, the namespaces the manager-role is bound in (the watched
ones and the credentials namespace), as a JSON array; it fails on a value that is not a list
of namespace names, so a typo cannot render a manager that watches nothing.
*/}}
{{- define "phoneop.rbacNamespaces" -}}
{{- if not (kindIs "slice" .Values.watchNamespaces) -}}
{{- fail "watchNamespaces must be a list of namespace names, e.g. [team-a, team-b]" -}}
{{- end -}}
{{- range .Values.watchNamespaces -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$" (toString .)) -}}
{{- fail (printf "watchNamespaces: %q is not a namespace name" (toString .)) -}}
{{- end -}}
{{- end -}}
{{- append .Values.watchNamespaces (include "phoneop.credentialsNamespace" .) | uniq | toJson -}}
{{- end -}}

{{/*
shards: values.shards as a JSON array of shard names; it fails on a value that is not a list of
distinct DNS labels, since each name becomes --shard, a Lease and a Deployment name.
*/}}
{{- define "phoneop.shards" -}}
{{- if not (kindIs "slice" .Values.shards) -}}
{{- fail "shards must be a list of shard names, e.g. [shard1, shard2]" -}}
{{- end -}}
{{- range .Values.shards -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$" (toString .)) -}}
{{- fail (printf "shards: %q is not a shard name (lower-case letters, digits and '-', at most 63)" (toString .)) -}}
{{- end -}}
{{- end -}}
{{- if ne (len .Values.shards) (len (uniq .Values.shards)) -}}
{{- fail "shards: a shard is listed twice" -}}
{{- end -}}
{{- .Values.shards | toJson -}}
{{- end -}}
