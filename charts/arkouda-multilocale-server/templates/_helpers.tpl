{{/*
Helpers of arkouda-multilocale-server. Every name starts with the chart's name because the
templates of a chart and its siblings in the `arkouda` umbrella chart share one namespace of
`define`s: two charts defining the same helper would silently overwrite each other.
*/}}

{{/* helm.sh/chart label value. */}}
{{- define "arkouda-multilocale-server.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/* Base of the object names: <release>-server (the locale part of the same release is
<release>-locale). A release name longer than 45 characters is cut to 38 plus a hash of the whole
name: the suffix always survives, two long names never collide, and a StatefulSet's name stays
within 52 characters (its pods' controller-revision-hash label must fit in 63). */}}
{{- define "arkouda-multilocale-server.fullname" -}}
{{- $release := .Release.Name -}}
{{- if gt (len $release) 45 -}}
{{- $release = printf "%s-%s" ($release | trunc 38 | trimSuffix "-") (sha256sum .Release.Name | trunc 6) -}}
{{- end -}}
{{- printf "%s-server" $release -}}
{{- end }}

{{/* Labels that select this chart's server pod. */}}
{{- define "arkouda-multilocale-server.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{/* Labels of every object, except the component. */}}
{{- define "arkouda-multilocale-server.commonLabels" -}}
helm.sh/chart: {{ include "arkouda-multilocale-server.chart" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: arkouda
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels of every object of the server. */}}
{{- define "arkouda-multilocale-server.labels" -}}
{{ include "arkouda-multilocale-server.commonLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/* Namespace of every object: global.namespace, external.namespace (seed), the release's. */}}
{{- define "arkouda-multilocale-server.namespace" -}}
{{- $g := .Values.global | default dict -}}
{{- $g.namespace | default .Values.external.namespace | default .Release.Namespace -}}
{{- end }}

{{/* TOTAL number of locales (locale pods + 1); global.numLocales wins. */}}
{{- define "arkouda-multilocale-server.numLocales" -}}
{{- $g := .Values.global | default dict -}}
{{- if and (hasKey $g "numLocales") (not (kindIs "invalid" $g.numLocales)) -}}
{{- $g.numLocales | int -}}
{{- else -}}
{{- .Values.server.numLocales | int -}}
{{- end -}}
{{- end }}

{{/* image reference: global.image.*, global.releaseVersion, image.*, releaseVersion, appVersion. */}}
{{- define "arkouda-multilocale-server.image" -}}
{{- $g := .Values.global | default dict -}}
{{- $gi := $g.image | default dict -}}
{{- $repo := $gi.repository | default .Values.image.repository -}}
{{- $tag := $gi.tag | default $g.releaseVersion | default .Values.image.tag | default .Values.releaseVersion | default .Chart.AppVersion -}}
{{- printf "%s:%s" $repo (toString $tag) -}}
{{- end }}

{{- define "arkouda-multilocale-server.pullPolicy" -}}
{{- $g := .Values.global | default dict -}}
{{- $gi := $g.image | default dict -}}
{{- $gi.pullPolicy | default $g.imagePullPolicy | default .Values.image.pullPolicy | default .Values.imagePullPolicy | default "IfNotPresent" -}}
{{- end }}

{{/* The image pull secrets (YAML list; empty when none). */}}
{{- define "arkouda-multilocale-server.imagePullSecrets" -}}
{{- $g := .Values.global | default dict -}}
{{- with ($g.imagePullSecrets | default .Values.imagePullSecrets) -}}
{{- toYaml . -}}
{{- end -}}
{{- end }}

{{/* The Service clients connect to: external.externalServiceName, else the release name. */}}
{{- define "arkouda-multilocale-server.serviceName" -}}
{{- $name := .Values.external.externalServiceName | default .Release.Name -}}
{{- if or (gt (len $name) 63) (not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name)) -}}
{{- fail (printf "the Service name %q is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63): set external.externalServiceName (it defaults to the release name)" $name) -}}
{{- end -}}
{{- $name -}}
{{- end }}

{{/* The separate metrics Service (seed layout), empty when metrics are a port of the main one. */}}
{{- define "arkouda-multilocale-server.metricsServiceName" -}}
{{- if .Values.server.metrics.collectMetrics -}}
{{- .Values.server.metrics.service.name | default "" -}}
{{- end -}}
{{- end }}

{{/* Release of the locale pods (the umbrella: this release). */}}
{{- define "arkouda-multilocale-server.localeInstance" -}}
{{- .Values.locale.instance | default .Release.Name -}}
{{- end }}

{{/* Label selector matching exactly the locale pods of that release. */}}
{{- define "arkouda-multilocale-server.localeSelector" -}}
{{- printf "app.kubernetes.io/instance=%s,app.kubernetes.io/component=locale" (include "arkouda-multilocale-server.localeInstance" .) -}}
{{- end }}

{{/* The ssh key Secret: ssh.existingSecret, else the one the arkouda-locale chart generates. */}}
{{- define "arkouda-multilocale-server.sshSecretName" -}}
{{- .Values.ssh.existingSecret | default (printf "%s-ssh" (include "arkouda-multilocale-server.localeInstance" . | trunc 59 | trimSuffix "-")) -}}
{{- end }}

{{- define "arkouda-multilocale-server.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "arkouda-multilocale-server.fullname" .) -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end }}

{{/* external.persistence with global.persistence laid over it key by key (YAML). */}}
{{- define "arkouda-multilocale-server.persistence" -}}
{{- $out := deepCopy (.Values.external.persistence | default dict) -}}
{{- $g := .Values.global | default dict -}}
{{- range $k, $v := ($g.persistence | default dict) -}}
{{- if not (kindIs "invalid" $v) -}}{{- $_ := set $out $k $v -}}{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end }}

{{/* podSecurityContext with global.podSecurityContext laid over it key by key (YAML). */}}
{{- define "arkouda-multilocale-server.podSecurityContext" -}}
{{- $out := deepCopy (.Values.podSecurityContext | default dict) -}}
{{- $g := .Values.global | default dict -}}
{{- range $k, $v := ($g.podSecurityContext | default dict) -}}
{{- if not (kindIs "invalid" $v) -}}{{- $_ := set $out $k $v -}}{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end }}

{{/* Refuse combinations the schema cannot express, with the fix in the message. */}}
{{- define "arkouda-multilocale-server.checks" -}}
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
{{- $p := include "arkouda-multilocale-server.persistence" . | fromYaml -}}
{{- if and $p.enabled (eq $p.type "hostPath") (not $p.hostPath) -}}
{{- fail "external.persistence.hostPath is required when persistence is enabled with type hostPath" -}}
{{- end -}}
{{- end }}

{{/* The anti-affinity that spreads the release's pods (server and locales) over nodes. */}}
{{- define "arkouda-multilocale-server.affinity" -}}
{{- if .Values.affinity -}}
{{- toYaml .Values.affinity -}}
{{- else if eq .Values.podAntiAffinity "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          app.kubernetes.io/instance: {{ include "arkouda-multilocale-server.localeInstance" . }}
          app.kubernetes.io/part-of: arkouda
{{- else if eq .Values.podAntiAffinity "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app.kubernetes.io/instance: {{ include "arkouda-multilocale-server.localeInstance" . }}
            app.kubernetes.io/part-of: arkouda
{{- end -}}
{{- end }}
