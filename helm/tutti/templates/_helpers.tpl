{{/* The release's resources are named after the release, with the chart's name unless it already holds it. */}}
{{- define "tutti.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tutti.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tutti.labels" -}}
{{ include "tutti.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "tutti.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Whether the chart makes the tenants' ConfigMap from `tenants.files` (no existing ConfigMap or volume). */}}
{{- define "tutti.ownsTenantsConfigMap" -}}
{{- if not (or .Values.tenants.existingConfigMap .Values.tenants.existingVolume) }}true{{ end -}}
{{- end -}}

{{- define "tutti.tenantsConfigMap" -}}
{{- .Values.tenants.existingConfigMap | default (printf "%s-tenants" (include "tutti.fullname" .)) -}}
{{- end -}}

{{/*
The environment shared by the server and the migration Job: production mode, and the secrets by key,
so that a Secret without DATABASE_URL, SESSION_SECRET or BILLING_KEY stops the pod before it starts (without
DATABASE_URL the server would otherwise open an embedded database of its own).
*/}}
{{- define "tutti.env" -}}
- name: NODE_ENV
  value: production
- name: PLATFORM_DOMAIN
  value: {{ .Values.platform.domain | quote }}
{{- with .Values.platform.publicUrl }}
- name: PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.platform.logLevel | quote }}
- name: TENANTS_DIR
  value: {{ .Values.tenants.mountPath | quote }}
- name: DATA_DIR
  value: /tmp/tutti
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: DATABASE_URL
- name: SESSION_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: SESSION_SECRET
- name: BILLING_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: BILLING_KEY
- name: SMTP_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: SMTP_URL
      optional: true
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: REDIS_URL
      optional: true
{{- range .Values.secrets.oidcClientSecrets }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key | quote }}
{{- end }}
{{- end -}}

{{- define "tutti.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "tutti.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}
