{{/* Name of every object the chart creates. */}}
{{- define "startup-factory.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "startup-factory" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-startup-factory" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Selector labels. The name label is fixed: the NetworkPolicy of every startup namespace
admits traffic to the AI gateway from pods carrying exactly this label.
*/}}
{{- define "startup-factory.selectorLabels" -}}
app.kubernetes.io/name: startup-factory
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "startup-factory.labels" -}}
{{ include "startup-factory.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: startup-factory
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "startup-factory.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "startup-factory.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "startup-factory.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Two replicas without a Lease would both reconcile and fight over every object. */}}
{{- define "startup-factory.checkLeaderElection" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.operator.leaderElection.enabled) -}}
{{- fail "operator.leaderElection.enabled must be true when replicaCount > 1" -}}
{{- end -}}
{{- end -}}
