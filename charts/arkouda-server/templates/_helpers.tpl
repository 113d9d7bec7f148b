{{/*
Helpers of arkouda-server. Every name starts with the chart's name: charts that become subcharts
of one parent share one namespace of `define`s.
*/}}

{{/* helm.sh/chart label value. */}}
{{- define "arkouda-server.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/* Base of the object names: <release>-server (a release name longer than 45 characters is cut to
38 plus a hash of the whole name, so long names never collide and a StatefulSet's name stays
within 52: its pods' controller-revision-hash label must fit in 63). */}}
{{- define "arkouda-server.fullname" -}}
{{- $release := .Release.Name -}}
{{- if gt (len $release) 45 -}}
{{- $release = printf "%s-%s" ($release | trunc 38 | trimSuffix "-") (sha256sum .Release.Name | trunc 6) -}}
{{- end -}}
{{- printf "%s-server" $release -}}
{{- end }}

{{/* Labels that select the server pod. */}}
{{- define "arkouda-server.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels of every object, except the component. */}}
{{- define "arkouda-server.commonLabels" -}}
helm.sh/chart: {{ include "arkouda-server.chart" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: arkouda
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "arkouda-server.labels" -}}
{{ include "arkouda-server.commonLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/* Namespace of every object: external.namespace (seed), else the release's. */}}
{{- define "arkouda-server.namespace" -}}
{{- .Values.external.namespace | default .Release.Namespace -}}
{{- end }}

{{/* image reference: image.tag, releaseVersion, appVersion. */}}
{{- define "arkouda-server.image" -}}
{{- $tag := .Values.image.tag | default .Values.releaseVersion | default .Chart.AppVersion -}}
{{- printf "%s:%s" .Values.image.repository (toString $tag) -}}
{{- end }}

{{- define "arkouda-server.pullPolicy" -}}
{{- .Values.image.pullPolicy | default .Values.imagePullPolicy | default "IfNotPresent" -}}
{{- end }}

{{/* The image pull secrets (YAML list; empty when none). */}}
{{- define "arkouda-server.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets -}}
{{- toYaml . -}}
{{- end -}}
{{- end }}

{{/* The Service clients connect to: external.externalServiceName, deployment.serviceName (seed),
else the release name. */}}
{{- define "arkouda-server.serviceName" -}}
{{- $name := .Values.external.externalServiceName | default .Values.deployment.serviceName | default .Release.Name -}}
{{- if or (gt (len $name) 63) (not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name)) -}}
{{- fail (printf "the Service name %q is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63): set external.externalServiceName (it defaults to the release name)" $name) -}}
{{- end -}}
{{- $name -}}
{{- end }}

{{/* The separate metrics Service (seed layout), empty when metrics are a port of the main one. */}}
{{- define "arkouda-server.metricsServiceName" -}}
{{- if .Values.server.metrics.collectMetrics -}}
{{- .Values.server.metrics.service.name | default "" -}}
{{- end -}}
{{- end }}

{{/* The claim created for persistence type pvc without existingClaim. */}}
{{- define "arkouda-server.claimName" -}}
{{- printf "%s-data" (.Release.Name | trunc 58 | trimSuffix "-") -}}
{{- end }}

{{- define "arkouda-server.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "arkouda-server.fullname" .) -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end }}

{{/* Refuse combinations the schema cannot express, with the fix in the message. */}}
{{- define "arkouda-server.checks" -}}
{{- if eq (.Values.image.repository | toString) "nginx" -}}
{{- fail "image.repository is nginx: that is the `helm create` scaffolding of the seed's values files, not an arkouda image; delete the image: block from your values (the tag is releaseVersion)" -}}
{{- end -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (int .Values.registrar.shutdownTimeout) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be above registrar.shutdownTimeout (%d): the kubelet would SIGKILL the server before the registrar withdraws it" (int .Values.terminationGracePeriodSeconds) (int .Values.registrar.shutdownTimeout)) -}}
{{- end -}}
{{- with .Values.external.externalServiceTargetPort -}}
{{- if ne (int .) (int $.Values.server.port) -}}
{{- fail (printf "external.externalServiceTargetPort (%d) differs from server.port (%d): the Service's target port is the port arkouda_server listens on; set server.port instead" (int .) (int $.Values.server.port)) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.external.headless (ne .Values.external.serviceType "ClusterIP") -}}
{{- fail (printf "external.headless needs external.serviceType ClusterIP, not %s" .Values.external.serviceType) -}}
{{- end -}}
{{- $p := .Values.external.persistence -}}
{{- if and $p.enabled (eq $p.type "hostPath") (not $p.hostPath) -}}
{{- fail "external.persistence.hostPath is required when persistence is enabled with type hostPath" -}}
{{- end -}}
{{- end }}
