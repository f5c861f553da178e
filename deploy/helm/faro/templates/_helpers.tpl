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
