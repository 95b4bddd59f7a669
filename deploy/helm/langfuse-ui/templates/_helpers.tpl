{{/* Names and labels */}}
{{- define "langfuse-ui.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-langfuse-ui, or fullnameOverride (e.g. "langfuse" for `kubectl ... deployment/langfuse`). */}}
{{- define "langfuse-ui.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "langfuse-ui.selectorLabels" -}}
app.kubernetes.io/name: {{ include "langfuse-ui.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "langfuse-ui.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "langfuse-ui.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | toString | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "langfuse-ui.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "langfuse-ui.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "langfuse-ui.image" -}}
{{- printf "%s:%s" .Values.image.repository ((.Values.image.tag | default .Chart.AppVersion) | toString) -}}
{{- end -}}

{{/*
Environment shared by the server and the CronJobs: the plain `env` map (secret-looking names refused),
the retention switch, extraEnv. Secrets come only through envFrom.
*/}}
{{- define "langfuse-ui.env" -}}
{{- $secretName := "^(DATABASE_URL|DIRECT_URL|SALT|SMTP_CONNECTION_URL|ENCRYPTION_KEY)$|SECRET|PASSWORD|ACCESS_KEY|TOKEN" -}}
{{- range $name, $value := .Values.env }}
{{- if and (regexMatch $secretName ($name | upper)) (not (hasSuffix "_FILE" ($name | upper))) }}
{{- fail (printf "env.%s looks like a secret: put it in the Kubernetes secret named by existingSecret (%s), not in values" $name $.Values.existingSecret) }}
{{- end }}
{{- if ne (toString $value) "" }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- if .Values.retention.cronJob.enabled }}
- name: LANGFUSE_RETENTION_INTERVAL_MINUTES
  value: "0"
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "langfuse-ui.envFrom" -}}
{{- if .Values.existingSecret }}
- secretRef:
    name: {{ .Values.existingSecret }}
{{- end }}
{{- with .Values.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* A CronJob running `manage.py <args>` with the server's image, secret and settings. */}}
{{- define "langfuse-ui.cronJob" -}}
{{- $root := .root -}}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ include "langfuse-ui.fullname" $root }}-{{ .name }}
  labels:
    {{- include "langfuse-ui.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .name }}
spec:
  schedule: {{ .schedule | quote }}
  concurrencyPolicy: {{ $root.Values.cronJobs.concurrencyPolicy }}
  successfulJobsHistoryLimit: {{ $root.Values.cronJobs.successfulJobsHistoryLimit }}
  failedJobsHistoryLimit: {{ $root.Values.cronJobs.failedJobsHistoryLimit }}
  jobTemplate:
    spec:
      backoffLimit: {{ $root.Values.cronJobs.backoffLimit }}
      template:
        metadata:
          labels:
            {{- include "langfuse-ui.selectorLabels" $root | nindent 12 }}
            app.kubernetes.io/component: {{ .name }}
          annotations:
            # An Istio sidecar would keep the job's pod running after the command has finished.
            sidecar.istio.io/inject: "false"
        spec:
          restartPolicy: OnFailure
          serviceAccountName: {{ include "langfuse-ui.serviceAccountName" $root }}
          automountServiceAccountToken: false
          {{- with $root.Values.imagePullSecrets }}
          imagePullSecrets:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          securityContext:
            {{- toYaml $root.Values.podSecurityContext | nindent 12 }}
          containers:
            - name: {{ .name }}
              image: {{ include "langfuse-ui.image" $root }}
              imagePullPolicy: {{ $root.Values.image.pullPolicy }}
              args:
                {{- toYaml .args | nindent 16 }}
              {{- with include "langfuse-ui.env" $root | trim }}
              env:
                {{- . | nindent 16 }}
              {{- end }}
              {{- with include "langfuse-ui.envFrom" $root | trim }}
              envFrom:
                {{- . | nindent 16 }}
              {{- end }}
              securityContext:
                {{- toYaml $root.Values.securityContext | nindent 16 }}
              resources:
                {{- toYaml .resources | nindent 16 }}
              volumeMounts:
                - name: tmp
                  mountPath: /tmp
                - name: data
                  mountPath: /data
                {{- with $root.Values.extraVolumeMounts }}
                {{- toYaml . | nindent 16 }}
                {{- end }}
          volumes:
            - name: tmp
              emptyDir: {}
            - name: data
              emptyDir: {}
            {{- with $root.Values.extraVolumes }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- with $root.Values.nodeSelector }}
          nodeSelector:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $root.Values.tolerations }}
          tolerations:
            {{- toYaml . | nindent 12 }}
          {{- end }}
{{- end -}}
