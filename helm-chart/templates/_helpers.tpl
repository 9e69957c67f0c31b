{{/* Names and labels. */}}
{{- define "cable-ticketing.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cable-ticketing.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cable-ticketing.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cable-ticketing.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cable-ticketing.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cable-ticketing.labels" -}}
helm.sh/chart: {{ include "cable-ticketing.chart" . }}
{{ include "cable-ticketing.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "cable-ticketing.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cable-ticketing.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cable-ticketing.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The Secret the pods read: the operator's, or the chart's. */}}
{{- define "cable-ticketing.secretName" -}}
{{- default (include "cable-ticketing.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The chart's Secret data, checked: SECRET_KEY and DATABASE_URL are required unless existingSecret is set. */}}
{{- define "cable-ticketing.secretData" -}}
{{- $s := .Values.secrets }}
{{- $key := required "secrets.SECRET_KEY is required (32+ random characters), or set existingSecret" $s.SECRET_KEY }}
{{- if lt (len $key) 16 }}{{ fail "secrets.SECRET_KEY must be at least 16 characters (use 32+ random ones)" }}{{ end }}
{{- $url := required "secrets.DATABASE_URL is required (postgres://user:password@host:5432/database), or set existingSecret" $s.DATABASE_URL }}
{{- if not (or (hasPrefix "postgres://" $url) (hasPrefix "postgresql://" $url)) }}{{ fail "secrets.DATABASE_URL must be a postgres:// URL (SQLite cannot be shared by several pods)" }}{{ end }}
{{- if .Values.pooler.enabled }}
{{- $_ := required "pooler.enabled needs secrets.POOLED_DATABASE_URL (the pooler's postgres:// URL), or set existingSecret" $s.POOLED_DATABASE_URL }}
{{- end }}
{{- range $name, $value := $s }}
{{- if $value }}
{{ $name }}: {{ $value | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by web, worker and the migration Job. */}}
{{- define "cable-ticketing.podSpecCommon" -}}
serviceAccountName: {{ include "cable-ticketing.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Container-level settings shared by every container: image, env, security, the writable /tmp. */}}
{{- define "cable-ticketing.containerCommon" -}}
image: {{ include "cable-ticketing.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
envFrom:
  - configMapRef:
      name: {{ include "cable-ticketing.fullname" . }}
  - secretRef:
      name: {{ include "cable-ticketing.secretName" . }}
{{- if or .Values.extraEnv .Values.pooler.enabled }}
env:
  {{- if .Values.pooler.enabled }}
  # Through the pooler (the migration Job does not use this helper's env: it keeps DATABASE_URL).
  - name: DATABASE_URL
    valueFrom:
      secretKeyRef:
        name: {{ include "cable-ticketing.secretName" . }}
        key: POOLED_DATABASE_URL
  {{- end }}
  {{- range $name, $value := .Values.extraEnv }}
  - name: {{ $name }}
    value: {{ $value | quote }}
  {{- end }}
{{- end }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end }}
