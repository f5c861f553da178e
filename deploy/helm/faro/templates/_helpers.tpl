{{- define "faro.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "faro.labels" -}}
app.kubernetes.io/name: faro
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "faro.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "faro.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- define "faro.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{/*
The durable consumer each service shares across its replicas (for lag-based autoscaling): STREAM/<cluster>_<service>,
the cluster being the service's own `cluster` setting, else the common one. Called with (dict "name" … "cluster" …).
*/}}
{{- define "faro.consumer" -}}
{{- $m := dict "log-streamer" "FARO_RAW" "filter" "FARO_RAW" "correlator" "FARO_CLEAN" "writer" "FARO_STORY" "analyzer" "FARO_INCIDENT" -}}
{{- $stream := get $m .name -}}{{- if $stream -}}{{ $stream }}/{{ .cluster }}_{{ .name }}{{- end -}}
{{- end -}}

{{/*
The resource types the watcher watches: services.watcher.config.resources when set, else rbac.resources
(the same `resource.group` spelling as the watcher's `resources`), Secrets added when rbac.secrets=true.
One list, so the watcher's config and the ClusterRole cannot disagree. Returned as a JSON list.
*/}}
{{- define "faro.watchedResources" -}}
{{- $wcfg := default (dict) .Values.services.watcher.config -}}
{{- $list := list -}}
{{- if hasKey $wcfg "resources" }}{{ $list = $wcfg.resources }}{{ else }}{{ $list = .Values.rbac.resources }}{{ end -}}
{{- if and .Values.rbac.secrets (not (has "secrets" $list)) (not (has "*" $list)) }}{{ $list = append $list "secrets" }}{{ end -}}
{{- toJson $list -}}
{{- end -}}

{{/*
ClusterRole rules (get/list/watch) for the configured resource set: the watched resources and the resources of
every scope, the Events the watcher follows (events.enabled), CustomResourceDefinitions (discovery refresh),
pods and pods/log for the log-streamer, and the owners the correlator reads. `*` (every resource, Secrets
included) and `secrets` are refused unless rbac.secrets=true.
*/}}
{{- define "faro.rbacRules" -}}
{{- $wcfg := default (dict) .Values.services.watcher.config -}}
{{- $all := include "faro.watchedResources" . | fromJsonArray -}}
{{- range (default (list) $wcfg.scopes) }}{{ $all = concat $all (default (list) .resources) }}{{ end -}}
{{- $all = concat $all .Values.rbac.extraResources -}}
{{- if (dig "events" "enabled" true $wcfg) }}{{ $all = concat $all (list "events" "events.events.k8s.io") }}{{ end -}}
{{- $all = concat $all (list "pods" "customresourcedefinitions.apiextensions.k8s.io") -}}
{{- if (dig "api" "enabled" true (default (dict) .Values.services.correlator.config)) }}{{ $all = concat $all (list "replicasets.apps" "deployments.apps" "statefulsets.apps" "daemonsets.apps" "jobs.batch" "cronjobs.batch") }}{{ end -}}
{{- if and (has "*" $all) (not .Values.rbac.secrets) }}{{ fail "rbac: `*` grants every resource, Secrets included: list the resource types in rbac.resources, or set rbac.secrets=true to accept that" }}{{ end -}}
{{- if and (has "secrets" $all) (not .Values.rbac.secrets) }}{{ fail "rbac: `secrets` is in the watched resources but rbac.secrets is false: set rbac.secrets=true to grant read access to Secrets" }}{{ end -}}
{{- if has "*" $all }}
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["get", "list", "watch"]
{{- else }}
{{- $groups := dict -}}
{{- range (uniq $all) }}
{{- $parts := splitn "." 2 . -}}
{{- $res := $parts._0 -}}{{- $grp := default "" $parts._1 -}}
{{- $_ := set $groups $grp (append (default (list) (get $groups $grp)) $res) -}}
{{- end }}
{{- range $grp := keys $groups | sortAlpha }}
- apiGroups: [{{ $grp | quote }}]
  resources: {{ get $groups $grp | uniq | sortAlpha | toJson }}
  verbs: ["get", "list", "watch"]
{{- end }}
{{- end }}
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
{{- end -}}
