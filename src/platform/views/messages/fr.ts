/** The French catalogue: the reference. Every key here must exist in every other language. */
export const fr = {
  'lang.name': 'Français',
  'lang.switch': 'English',
  'layout.skip': 'Aller au contenu',
  'layout.accessibility': 'Accessibilité',
  'layout.home': 'Accueil',
  'layout.platform': 'Tutti — portails des conservatoires',
  'layout.contact': 'Contact',
  'layout.mainNav': 'Navigation principale',
  'layout.language': 'Langue',
  'platform.title': 'Accès aux portails',
  'platform.intro': 'Choisissez votre conservatoire pour accéder à son portail.',
  'platform.site': 'Site',
  'platform.choose': 'Choisir un site…',
  'platform.go': 'Accéder au portail',
  'platform.siteRequired': 'Choisissez un site dans la liste.',
  'platform.none': 'Aucun portail n’est ouvert pour le moment.',
  'tenant.welcome': 'Bienvenue sur le portail du {name}',
  'tenant.establishments': 'Nos sites',
  'tenant.contact': 'Nous contacter',
  'tenant.website': 'Site internet',
  'tenant.preregistrationOpen': 'Pré-inscriptions : jusqu’au {date}',
  'tenant.reenrolmentOpen': 'Réinscriptions {year} : jusqu’au {date}',
  'tenant.periods': 'Calendrier',
  'date.until': '{date} à {time}',
  'accessibility.title': 'Déclaration d’accessibilité',
  'accessibility.default':
    '{name} s’engage à rendre son portail accessible conformément à l’article 47 de la loi n° 2005-102 du 11 février 2005. Le portail vise la conformité au référentiel général d’amélioration de l’accessibilité (RGAA) version 4.1, niveau AA des WCAG 2.1. Son audit de conformité n’a pas encore été réalisé.',
  'accessibility.feedback':
    'Si vous n’arrivez pas à accéder à un contenu ou à un service, écrivez-nous à {email} : nous vous répondrons et vous proposerons une alternative.',
  'accessibility.recourse':
    'Si notre réponse ne vous satisfait pas, vous pouvez saisir le Défenseur des droits (www.defenseurdesdroits.fr).',
  'error.404.title': 'Page introuvable',
  'error.404.body': 'L’adresse demandée n’existe pas ou n’est plus disponible.',
  'error.404host.body': 'Aucun conservatoire ne correspond à cette adresse. Vérifiez l’adresse saisie.',
  'error.disabled.title': 'Portail indisponible',
  'error.disabled.body':
    'Le portail de ce conservatoire est fermé. Contactez directement votre conservatoire.',
  'error.400.title': 'Requête invalide',
  'error.400.body': 'La demande envoyée n’a pas pu être comprise. Revenez en arrière et réessayez.',
  'error.403.title': 'Accès refusé',
  'error.403.body': 'Vous n’avez pas accès à cette page.',
  'error.429.title': 'Trop de tentatives',
  'error.429.body': 'Trop de demandes ont été envoyées. Réessayez dans {minutes} minute(s).',
  'error.500.title': 'Une erreur est survenue',
  'error.500.body':
    'Le service a rencontré un problème. Réessayez dans quelques instants ; si le problème persiste, contactez votre conservatoire.',
  'error.503.title': 'Service momentanément indisponible',
  'error.503.body': 'Le service est momentanément indisponible. Réessayez dans quelques instants.',
  'error.back': 'Retour à l’accueil',
} as const

export type MessageKey = keyof typeof fr
