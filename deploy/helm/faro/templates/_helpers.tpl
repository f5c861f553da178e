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

{{/* The durable consumer each service shares across its replicas (for lag-based autoscaling). */}}
{{- define "faro.consumer" -}}
{{- $m := dict "log-streamer" (list "FARO_RAW" "log-streamer") "filter" (list "FARO_RAW" "filter") "correlator" (list "FARO_CLEAN" "correlator") "writer" (list "FARO_STORY" "writer") -}}
{{- $c := get $m . -}}{{- if $c -}}{{ index $c 0 }}/{{ index $c 1 }}{{- end -}}
{{- end -}}
